package dev.acceldispatch.testkit;

/**
 * A {@link dev.acceldispatch.spi.TaskScheduler} in virtual time: tasks run only inside {@link
 * #advance}, {@link #runUntilIdle} and {@link #runDue}, on the calling thread, in due-time order.
 * With it (and {@code providerExecutor(Runnable::run)}) a dispatcher is fully deterministic, and
 * hours of dispatch take milliseconds. Thread-safe for scheduling; run it from one thread. The
 * same scheduler core's own tests use, under the testkit's name.
 */
public final class ManualScheduler extends dev.acceldispatch.testing.ManualScheduler {

  /** On a new {@link ManualClock}. */
  public ManualScheduler() {
    this(new ManualClock());
  }

  /** On {@code clock}. */
  public ManualScheduler(ManualClock clock) {
    super(clock);
  }

  /** The clock, to move it directly. */
  @Override
  public ManualClock manualClock() {
    return (ManualClock) super.manualClock();
  }
}
