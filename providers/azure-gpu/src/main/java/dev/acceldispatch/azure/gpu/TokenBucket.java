package dev.acceldispatch.azure.gpu;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** A token bucket that never blocks: it says how long until the next token instead. */
final class TokenBucket {
  private final double capacity;
  private final double perNano;
  private final Clock clock;
  private double tokens;
  private Instant last;

  TokenBucket(int capacity, double perSecond, Clock clock) {
    this.capacity = capacity;
    this.perNano = perSecond / 1e9;
    this.clock = clock;
    this.tokens = capacity;
    this.last = clock.instant();
  }

  /** Takes a token and returns null, or returns how long until one is available (taking none). */
  synchronized Duration tryTake() {
    Instant now = clock.instant();
    long elapsed = Math.max(0, Duration.between(last, now).toNanos());
    tokens = Math.min(capacity, tokens + elapsed * perNano);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return null;
    }
    return Duration.ofNanos((long) Math.ceil((1 - tokens) / perNano));
  }
}
