package dev.acceldispatch.testing;

import dev.acceldispatch.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.PriorityQueue;

/**
 * A {@link TaskScheduler} in virtual time: tasks run only inside {@link #advance}, {@link
 * #runUntilIdle} and {@link #runDue}, on the calling thread, in due-time order. With it (and
 * {@code providerExecutor(Runnable::run)}) a dispatcher is fully deterministic, and hours of
 * dispatch take milliseconds. Thread-safe for scheduling; run it from one thread. Core's own tests
 * use it directly; the testkit's {@code ManualScheduler} extends it for hosts' tests.
 */
public class ManualScheduler implements TaskScheduler {
  private record Task(Instant due, long seq, Runnable run, boolean[] cancelled) {}

  private final ManualClock clock;
  private final PriorityQueue<Task> queue =
      new PriorityQueue<>((a, b) -> a.due.equals(b.due) ? Long.compare(a.seq, b.seq) : a.due.compareTo(b.due));
  private long seq;
  private long tasksRun;

  /** On a new {@link ManualClock}. */
  public ManualScheduler() {
    this(new ManualClock());
  }

  /** On {@code clock}. */
  public ManualScheduler(ManualClock clock) {
    this.clock = clock;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  /** The clock, to move it directly. */
  public ManualClock manualClock() {
    return clock;
  }

  /** The current virtual time. */
  public Instant now() {
    return clock.instant();
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, Duration delay) {
    boolean[] cancelled = {false};
    Duration d = delay.isNegative() ? Duration.ZERO : delay;
    queue.add(new Task(clock.instant().plus(d), seq++, task, cancelled));
    return () -> {
      synchronized (ManualScheduler.this) {
        cancelled[0] = true;
      }
    };
  }

  /** Runs every task due now or earlier, including those they schedule for now. */
  public void runDue() {
    runUntil(clock.instant());
  }

  /** Moves time forward by {@code d}, running each task at its due time. */
  public void advance(Duration d) {
    runUntil(clock.instant().plus(d));
  }

  /**
   * Runs tasks in time order until none is left, moving the clock to each one's due time, but not
   * past {@code limit} from now.
   *
   * @return true when the queue emptied, false when the limit stopped it
   */
  public boolean runUntilIdle(Duration limit) {
    Instant end = clock.instant().plus(limit);
    runUntil(end);
    synchronized (this) {
      return queue.stream().noneMatch(t -> !t.cancelled[0]);
    }
  }

  /** How many tasks are waiting (not cancelled). */
  public synchronized int pending() {
    return (int) queue.stream().filter(t -> !t.cancelled[0]).count();
  }

  /** How many tasks have run. */
  public synchronized long tasksRun() {
    return tasksRun;
  }

  private void runUntil(Instant end) {
    while (true) {
      Task t;
      synchronized (this) {
        t = queue.peek();
        if (t == null || t.due.isAfter(end)) {
          break;
        }
        queue.poll();
        if (t.cancelled[0]) {
          continue;
        }
        tasksRun++;
      }
      if (t.due.isAfter(clock.instant())) {
        clock.setTo(t.due);
      }
      t.run.run();
    }
    if (end.isAfter(clock.instant())) {
      clock.setTo(end);
    }
  }
}
