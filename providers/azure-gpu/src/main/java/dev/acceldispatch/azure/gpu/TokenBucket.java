package dev.acceldispatch.azure.gpu;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A token bucket that never blocks: it says how long until the next token instead. */
final class TokenBucket {
  private final double capacity;
  private final double perNano;
  private final LongSupplier nanoTime;
  private double tokens;
  private long last;

  TokenBucket(int capacity, double perSecond, LongSupplier nanoTime) {
    this.capacity = capacity;
    this.perNano = perSecond / 1e9;
    this.nanoTime = nanoTime;
    this.tokens = capacity;
    this.last = nanoTime.getAsLong();
  }

  /** Takes a token and returns null, or returns how long until one is available (taking none). */
  synchronized Duration tryTake() {
    long now = nanoTime.getAsLong();
    tokens = Math.min(capacity, tokens + (now - last) * perNano);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return null;
    }
    return Duration.ofNanos((long) Math.ceil((1 - tokens) / perNano));
  }
}
