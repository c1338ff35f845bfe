package dev.acceldispatch.spi;

import java.time.Clock;
import java.time.Duration;

/**
 * The engine's time and its one thread. The engine reads time only from {@link #clock()} and runs
 * all its work as tasks scheduled here, so the same engine runs in real time (the default, one
 * daemon thread) and in virtual time (the testkit's {@code ManualScheduler}, and the bench
 * simulator).
 *
 * <p>Contract: tasks run one at a time, never concurrently, in order of due time (ties in the order
 * they were scheduled). The engine relies on that instead of locks.
 */
public interface TaskScheduler {
  /** The time source. */
  Clock clock();

  /**
   * Runs {@code task} once, {@code delay} from now (zero: as soon as possible, after the tasks
   * already due).
   */
  Cancellable schedule(Runnable task, Duration delay);

  /** A scheduled task that may still be cancelled. */
  @FunctionalInterface
  interface Cancellable {
    /** Cancels the task if it has not run. */
    void cancel();
  }
}
