package dev.acceldispatch.cli;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits for a condition in a test, with a deadline and a message saying what never happened. */
final class Eventually {
  private Eventually() {}

  /** The first non-null answer of {@code probe}, polled every 200 ms until {@code limit}. */
  static <T> T value(String what, Duration limit, Supplier<T> probe) {
    long end = System.nanoTime() + limit.toNanos();
    while (true) {
      T v = probe.get();
      if (v != null) {
        return v;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError(what + ": not seen within " + limit);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
