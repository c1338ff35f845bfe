package dev.acceldispatch.testkit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a deadline passes. For tests that drive a real SDK client
 * against an emulator, where time is real because the SDK's own polling is; engine tests use
 * {@link ManualScheduler} instead and never wait.
 */
public final class Await {
  private Await() {}

  /**
   * Returns the first non-null value {@code probe} yields, polling every {@code every} for at most
   * {@code patience}.
   *
   * @throws AssertionError naming {@code what} when the deadline passes
   */
  public static <T> T until(String what, Duration patience, Duration every, Supplier<T> probe) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      T v = probe.get();
      if (v != null) {
        return v;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up after " + patience + " waiting for " + what);
      }
      try {
        TimeUnit.NANOSECONDS.sleep(every.toNanos());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  /**
   * Waits until no live thread's name starts with {@code namePrefix}: a pool reports termination
   * a moment before its last thread has returned, so a leak check must allow for that.
   *
   * @throws AssertionError naming the prefix when such a thread is still alive after {@code patience}
   */
  public static void noThreadAlive(String namePrefix, Duration patience) {
    until("no live thread named " + namePrefix + "*", patience, Duration.ofMillis(20),
        () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().startsWith(namePrefix)) ? Boolean.TRUE : null);
  }
}
