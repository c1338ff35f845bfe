package dev.acceldispatch.azure.gpu;

import com.azure.core.http.HttpResponse;
import com.azure.core.http.policy.ExponentialBackoff;
import com.azure.core.http.policy.RequestRetryCondition;
import com.azure.core.http.policy.RetryPolicy;
import com.azure.core.http.policy.RetryStrategy;
import java.time.Clock;
import java.time.Duration;

/**
 * The SDK retry policy {@link AzureGpuProvider#retryPolicy()} hands out: azure-core's own {@link
 * RetryPolicy} (which honours {@code Retry-After}), with a strategy that retries only what fits
 * in one provider call. ARM asks throttled clients to wait tens of seconds ("Please try again
 * after '17' seconds"); azure-core waits out any {@code Retry-After} without a cap, so a plain
 * {@code RetryPolicy} outlasts the provider's call timeout and the 429 becomes a timeout that has
 * lost its retry-after. Here a response asking for more than {@link #MAX_HONOURED_RETRY_AFTER} is
 * not retried: it reaches the provider, which throws {@code Throttled} with that retry-after, and
 * the engine waits (without holding a thread).
 */
final class ArmRetryPolicy extends RetryPolicy {
  /** Tries after the first. */
  static final int MAX_RETRIES = 2;
  /** azure-core's default first backoff. */
  static final Duration BASE_DELAY = Duration.ofMillis(800);
  /** The longest backoff between two tries. */
  static final Duration MAX_DELAY = Duration.ofSeconds(4);
  /** The longest {@code Retry-After} the SDK waits out itself; longer ones go to the engine. */
  static final Duration MAX_HONOURED_RETRY_AFTER = Duration.ofSeconds(4);
  /** The most this policy sleeps in one request: every retry at its longest wait. */
  static final Duration WORST_CASE_WAIT =
      (MAX_DELAY.compareTo(MAX_HONOURED_RETRY_AFTER) > 0 ? MAX_DELAY : MAX_HONOURED_RETRY_AFTER).multipliedBy(MAX_RETRIES);

  ArmRetryPolicy(Clock clock) {
    super(new Strategy(clock));
  }

  private static final class Strategy implements RetryStrategy {
    private final ExponentialBackoff backoff = new ExponentialBackoff(MAX_RETRIES, BASE_DELAY, MAX_DELAY);
    private final Clock clock;

    Strategy(Clock clock) {
      this.clock = clock;
    }

    @Override
    public int getMaxRetries() {
      return MAX_RETRIES;
    }

    @Override
    public Duration calculateRetryDelay(int retryAttempts) {
      return backoff.calculateRetryDelay(retryAttempts);
    }

    @Override
    public boolean shouldRetryCondition(RequestRetryCondition condition) {
      HttpResponse r = condition.getResponse();
      if (r != null) {
        Duration asked = AzureErrors.retryAfter(r.getHeaders(), clock);
        if (asked != null && asked.compareTo(MAX_HONOURED_RETRY_AFTER) > 0) {
          return false;
        }
      }
      return backoff.shouldRetryCondition(condition);
    }
  }
}
