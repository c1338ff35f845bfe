package dev.acceldispatch.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A clock that moves only when told to. Thread-safe. Core's own tests use it directly; the
 * testkit's {@code ManualClock} extends it for hosts' tests.
 */
public class ManualClock extends Clock {
  private volatile Instant now;

  /** Starts at {@code start}. */
  public ManualClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  /** Starts at 2026-01-01T00:00:00Z. */
  public ManualClock() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /** Moves forward by {@code d} (which must not be negative). */
  public synchronized void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time only moves forward, got " + d);
    }
    now = now.plus(d);
  }

  /** Moves to {@code t} (which must not be in the past). */
  public synchronized void setTo(Instant t) {
    if (t.isBefore(now)) {
      throw new IllegalArgumentException("time only moves forward: " + t + " is before " + now);
    }
    now = t;
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
