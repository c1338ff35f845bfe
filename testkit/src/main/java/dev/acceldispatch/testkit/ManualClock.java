package dev.acceldispatch.testkit;

import java.time.Instant;

/**
 * A clock that moves only when told to ({@link #advance}, {@link #setTo}). Thread-safe. The same
 * clock core's own tests use, under the testkit's name.
 */
public final class ManualClock extends dev.acceldispatch.testing.ManualClock {

  /** Starts at {@code start}. */
  public ManualClock(Instant start) {
    super(start);
  }

  /** Starts at 2026-01-01T00:00:00Z. */
  public ManualClock() {
    super();
  }
}
