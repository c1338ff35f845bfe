package dev.acceldispatch.internal;

import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.TaskScheduler;
import dev.failsafe.CircuitBreaker;
import dev.failsafe.CircuitBreakerOpenException;
import dev.failsafe.ExecutionContext;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.Policy;
import dev.failsafe.RateLimitExceededException;
import dev.failsafe.RateLimiter;
import dev.failsafe.RetryPolicy;
import dev.failsafe.Timeout;
import dev.failsafe.TimeoutExceededException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Every call the engine makes to one provider goes through here, wrapped in Failsafe: retries with
 * exponential backoff and jitter for transient and throttled failures (honouring the cloud's
 * retry-after), a circuit breaker per region, a rate limiter at the provider's call rate, and a
 * timeout per try. The rate limiter and the timeout keep wall-clock time (Failsafe reads it
 * itself); the breaker's open period runs on the engine's clock. The policies are built once per
 * region, not per call: a long simulation makes tens of millions of calls. Whatever comes out is a {@link ProviderException}: Failsafe's own exceptions
 * and anything unexpected are translated, so the engine reasons about one taxonomy.
 */
final class ProviderGateway {
  private final Provider provider;
  private final ProviderLimits limits;
  private final FailsafeSchedulerAdapter scheduler;
  private final TaskScheduler taskScheduler;
  private final RateLimiter<Object> rateLimiter;
  private final Timeout<Object> timeout;
  private final RetryPolicy<Object> retrying;
  private final RetryPolicy<Object> once;
  private final Map<String, RegionPolicies> regions = new ConcurrentHashMap<>();
  private final Random jitter;
  /** Until when a retry-after pauses every call of this provider; null when none does. */
  private Instant pausedUntil;

  /** The cloud code of a {@link ProviderException.Transient} that stands for a broken SPI contract. */
  static final String CONTRACT_VIOLATION = "PROVIDER_CONTRACT_VIOLATION";

  /** The breaker of one region and the two Failsafe pipelines through it, built once. */
  private record RegionPolicies(CircuitBreaker<Object> breaker, FailsafeExecutor<Object> retrying, FailsafeExecutor<Object> once) {}

  /**
   * @param callsRunInline whether the provider executor runs calls on the engine's own thread
   *     ({@code Runnable::run}, as simulations and virtual-time tests do). Then no per-try timeout
   *     is set: Failsafe's timeout waits on its own wall-clock thread and could only give up on a
   *     call after it had already returned, while costing a cross-thread schedule and cancel per
   *     call (60 % of a trace replay's time when it was there).
   */
  ProviderGateway(Provider provider, ProviderLimits limits, FailsafeSchedulerAdapter scheduler, TaskScheduler taskScheduler,
      long seed, boolean callsRunInline) {
    this.provider = provider;
    this.taskScheduler = taskScheduler;
    this.limits = limits;
    this.scheduler = scheduler;
    this.jitter = new Random(seed);
    if (Double.isInfinite(limits.callsPerSecond())) {
      this.rateLimiter = null;
    } else {
      long perSecond = Math.max(1, Math.round(Math.ceil(limits.callsPerSecond())));
      this.rateLimiter =
          RateLimiter.smoothBuilder(perSecond, Duration.ofSeconds(1)).withMaxWaitTime(limits.callTimeout()).build();
    }
    this.timeout = callsRunInline ? null : Timeout.builder(limits.callTimeout()).withInterrupt().build();
    this.retrying = RetryPolicy.builder()
        .handleIf((r, e) -> isRetryable(e))
        .withMaxRetries(limits.maxRetries())
        .withDelayFn(this::delay)
        .build();
    // Polls are not retried: the next poll is the retry.
    this.once = RetryPolicy.builder().handleIf((r, e) -> false).withMaxRetries(0).build();
  }

  private RegionPolicies policiesOf(String region) {
    return regions.computeIfAbsent(region, r -> {
      CircuitBreaker<Object> breaker = newBreaker();
      return new RegionPolicies(breaker, pipeline(retrying, breaker), pipeline(once, breaker));
    });
  }

  /**
   * Outermost first: retry, then breaker, then rate limiter (unless the provider's rate is
   * unlimited), then the timeout of each try (unless calls run inline).
   */
  private FailsafeExecutor<Object> pipeline(RetryPolicy<Object> retry, CircuitBreaker<Object> breaker) {
    List<Policy<Object>> policies = new ArrayList<>(List.of(retry, breaker));
    if (rateLimiter != null) {
      policies.add(rateLimiter);
    }
    if (timeout != null) {
      policies.add(timeout);
    }
    return Failsafe.with(policies).with(scheduler);
  }

  Provider provider() {
    return provider;
  }

  /** Whether the breaker of {@code region} is open (calls there fail fast). */
  boolean isOpen(String region) {
    RegionPolicies p = regions.get(region);
    return p != null && p.breaker().isOpen();
  }

  /**
   * Calls the provider with retries, breaker, rate limiter and timeout. The future completes with
   * the result or a {@link ProviderException}.
   */
  <T> CompletableFuture<T> call(String region, String zone, Supplier<T> call) {
    return call(region, zone, call, true);
  }

  /** Like {@link #call} but without retries: for polls, which are retried by polling again. */
  <T> CompletableFuture<T> callOnce(String region, String zone, Supplier<T> call) {
    return call(region, zone, call, false);
  }

  /**
   * Whether {@link #callOnceNow} may be used: calls run inline and nothing in the pipeline waits
   * (no rate limiter, no timeout, and a single try has no retry delay).
   */
  boolean canCallOnceNow() {
    return rateLimiter == null && timeout == null && pausedFor().isZero();
  }

  /**
   * Like {@link #callOnce}, synchronously on the calling thread, for an in-process provider called
   * inline: the same breaker and the same error translation, without a task to start the call and
   * another to deliver its result (a simulation makes tens of millions of status calls).
   *
   * @throws ProviderException what the call failed with, translated as {@link #callOnce} does
   */
  @SuppressWarnings("unchecked")
  <T> T callOnceNow(String region, String zone, Supplier<T> call) {
    if (!canCallOnceNow()) {
      throw new IllegalStateException("callOnceNow needs inline calls without a rate limiter or timeout");
    }
    try {
      return (T) policiesOf(region).once().get(() -> invoke(call, zone));
    } catch (FailsafeException e) {
      throw translate(unwrap(e.getCause() != null ? e.getCause() : e), zone);
    } catch (RuntimeException e) {
      throw translate(unwrap(e), zone);
    }
  }

  /**
   * Runs one try. What the SPI does not allow is a {@link ProviderException.Transient} with code
   * {@link #CONTRACT_VIOLATION}: {@code null} where a value is due, or an exception outside the
   * {@link ProviderException} taxonomy. It is retried like any transient failure (a bounded number
   * of times), and the engine gives up on the attempt after a few in a row, never waits on it for
   * ever. A {@link ProviderException.Throttled} with a retry-after pauses the whole provider.
   */
  private <T> T invoke(Supplier<T> call, String zone) {
    T result;
    try {
      result = call.get();
    } catch (ProviderException.Throttled t) {
      t.retryAfter().ifPresent(this::pauseFor);
      throw t;
    } catch (ProviderException e) {
      throw e;
    } catch (RuntimeException e) {
      // Unknown errors are transient with bounded retries, never silent success.
      throw new ProviderException.Transient(provider.id(), zone, CONTRACT_VIOLATION,
          "undeclared " + e.getClass().getName() + ": " + e.getMessage(), e);
    }
    if (result == null) {
      throw new ProviderException.Transient(provider.id(), zone, CONTRACT_VIOLATION, "returned null, which the SPI does not allow", null);
    }
    return result;
  }

  /**
   * Clouds throttle per project or subscription, not per call: after a retry-after, no call of
   * this provider starts before it has passed (a later, longer one extends the pause).
   */
  private synchronized void pauseFor(Duration retryAfter) {
    Instant until = taskScheduler.clock().instant().plus(retryAfter);
    if (pausedUntil == null || until.isAfter(pausedUntil)) {
      pausedUntil = until;
    }
  }

  /** How long calls of this provider must still wait for a retry-after; zero when they need not. */
  synchronized Duration pausedFor() {
    if (pausedUntil == null) {
      return Duration.ZERO;
    }
    Duration left = Duration.between(taskScheduler.clock().instant(), pausedUntil);
    if (left.isNegative() || left.isZero()) {
      pausedUntil = null;
      return Duration.ZERO;
    }
    return left;
  }

  private <T> CompletableFuture<T> call(String region, String zone, Supplier<T> call, boolean retry) {
    Duration pause = pausedFor();
    if (pause.isZero()) {
      return start(region, zone, call, retry);
    }
    // Throttled: the call starts once the provider's retry-after has passed.
    CompletableFuture<T> later = new CompletableFuture<>();
    taskScheduler.schedule(() -> call(region, zone, call, retry).whenComplete((v, e) -> {
      if (e == null) {
        later.complete(v);
      } else {
        later.completeExceptionally(e);
      }
    }), pause);
    return later;
  }

  @SuppressWarnings("unchecked")
  private <T> CompletableFuture<T> start(String region, String zone, Supplier<T> call, boolean retry) {
    RegionPolicies policies = policiesOf(region);
    CompletableFuture<Object> f =
        (retry ? policies.retrying() : policies.once())
            .getAsync(() -> invoke(call, zone));
    return (CompletableFuture<T>) f.handle(
        (v, e) -> {
          if (e == null) {
            return v;
          }
          throw new CompletionException(translate(unwrap(e), zone));
        });
  }

  /**
   * Failsafe's breaker counts failures and runs the half-open trial, but its own open delay runs on
   * the wall clock, which would keep a breaker open for the whole of a virtual-time run. So its own
   * delay is set out of reach, and the move to half-open is scheduled on the engine's clock.
   */
  private CircuitBreaker<Object> newBreaker() {
    CircuitBreaker<Object>[] self = new CircuitBreaker[1];
    self[0] =
        CircuitBreaker.builder()
            .handleIf((r, e) -> e instanceof ProviderException.Transient || e instanceof TimeoutExceededException)
            .withFailureThreshold(limits.breakerFailures())
            .withDelay(Duration.ofDays(3650))
            .withSuccessThreshold(1)
            .onOpen(e -> taskScheduler.schedule(() -> {
              if (self[0].isOpen()) {
                self[0].halfOpen();
              }
            }, limits.breakerOpenFor()))
            .build();
    return self[0];
  }

  private static boolean isRetryable(Throwable e) {
    return e instanceof ProviderException.Transient
        || e instanceof ProviderException.Throttled
        || e instanceof TimeoutExceededException
        || e instanceof RateLimitExceededException;
  }

  /** Retry-after when the cloud gave one, else exponential backoff with ±25% jitter. */
  private Duration delay(ExecutionContext<Object> ctx) {
    Throwable last = ctx.getLastException();
    if (last instanceof ProviderException.Throttled t && t.retryAfter().isPresent()) {
      return t.retryAfter().get();
    }
    long base = limits.initialBackoff().toMillis() << Math.min(20, Math.max(0, ctx.getAttemptCount() - 1));
    long capped = Math.min(base, limits.maxBackoff().toMillis());
    double factor;
    synchronized (jitter) {
      factor = 0.75 + jitter.nextDouble() * 0.5;
    }
    return Duration.ofMillis(Math.max(0, Math.round(capped * factor)));
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private ProviderException translate(Throwable e, String zone) {
    if (e instanceof ProviderException pe) {
      return pe;
    }
    if (e instanceof CircuitBreakerOpenException) {
      return new ProviderException.Transient(provider.id(), zone, "CIRCUIT_OPEN", "circuit breaker open after repeated failures", e);
    }
    if (e instanceof TimeoutExceededException) {
      return new ProviderException.Transient(provider.id(), zone, "TIMEOUT", "call took longer than " + limits.callTimeout(), e);
    }
    if (e instanceof RateLimitExceededException) {
      return new ProviderException.Throttled(provider.id(), zone, null, "LOCAL_RATE_LIMIT", "engine rate limiter wait too long", e);
    }
    return new ProviderException.Transient(provider.id(), zone, e.getClass().getSimpleName(), String.valueOf(e.getMessage()), e);
  }
}
