package dev.acceldispatch.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * How the engine calls one provider: the rate of API calls, how long one call may take, how often
 * and how patiently a transient failure is retried, and when the circuit breaker opens. Providers
 * supply defaults shaped to their cloud's published limits; hosts may override them.
 *
 * @param callsPerSecond the most calls per second the engine makes to this provider; {@link
 *     #UNLIMITED_RATE} for none (an in-process provider that no API quota protects)
 * @param callTimeout the longest one provider call may take before it counts as a transient failure
 * @param maxRetries retries of a transient or throttled call, after the first try
 * @param initialBackoff the first retry delay (doubled each time, with jitter)
 * @param maxBackoff the longest retry delay (a cloud's retry-after is honoured even if longer)
 * @param breakerFailures consecutive failures in one region that open its circuit breaker
 * @param breakerOpenFor how long an open breaker rejects calls before it lets one through
 */
public record ProviderLimits(
    double callsPerSecond,
    Duration callTimeout,
    int maxRetries,
    Duration initialBackoff,
    Duration maxBackoff,
    int breakerFailures,
    Duration breakerOpenFor) {

  /** 20 calls/s, 2 min per call, 4 retries from 1 s to 30 s, breaker at 5 failures for 1 min. */
  public static final ProviderLimits DEFAULT =
      new ProviderLimits(
          20, Duration.ofMinutes(2), 4, Duration.ofSeconds(1), Duration.ofSeconds(30), 5,
          Duration.ofMinutes(1));

  /** A {@link #callsPerSecond} that means no client-side rate limit at all. */
  public static final double UNLIMITED_RATE = Double.POSITIVE_INFINITY;

  /**
   * {@link #DEFAULT} without a rate limit: for an in-process provider (a fake, a simulation) that
   * no API quota protects.
   */
  public static final ProviderLimits IN_PROCESS = DEFAULT.withCallsPerSecond(UNLIMITED_RATE);

  /** Validates. */
  public ProviderLimits {
    if (!(callsPerSecond > 0)) {
      throw new IllegalArgumentException("callsPerSecond must be > 0 (or UNLIMITED_RATE), got " + callsPerSecond);
    }
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(breakerOpenFor, "breakerOpenFor");
    if (callTimeout.isNegative() || callTimeout.isZero()) {
      throw new IllegalArgumentException("callTimeout must be positive, got " + callTimeout);
    }
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "backoff must satisfy 0 <= initialBackoff <= maxBackoff, got " + initialBackoff + ", " + maxBackoff);
    }
    if (breakerFailures < 1) {
      throw new IllegalArgumentException("breakerFailures must be >= 1, got " + breakerFailures);
    }
  }

  /** A copy with another call rate. */
  public ProviderLimits withCallsPerSecond(double rate) {
    return new ProviderLimits(rate, callTimeout, maxRetries, initialBackoff, maxBackoff, breakerFailures, breakerOpenFor);
  }

  /** A copy with another call timeout. */
  public ProviderLimits withCallTimeout(Duration timeout) {
    return new ProviderLimits(callsPerSecond, timeout, maxRetries, initialBackoff, maxBackoff, breakerFailures, breakerOpenFor);
  }

  /** A copy with other retry settings. */
  public ProviderLimits withRetries(int retries, Duration initial, Duration max) {
    return new ProviderLimits(callsPerSecond, callTimeout, retries, initial, max, breakerFailures, breakerOpenFor);
  }

  /** A copy with other circuit breaker settings. */
  public ProviderLimits withBreaker(int failures, Duration openFor) {
    return new ProviderLimits(callsPerSecond, callTimeout, maxRetries, initialBackoff, maxBackoff, failures, openFor);
  }
}
