package dev.acceldispatch.internal;

import dev.acceldispatch.spi.TaskScheduler;
import dev.failsafe.spi.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Lets Failsafe wait on the engine's {@link TaskScheduler} (so retry delays, rate-limit waits and
 * timeouts pass in the engine's time, virtual or real) and run calls on the provider executor (so
 * a blocking cloud call never holds the engine's thread).
 */
final class FailsafeSchedulerAdapter implements Scheduler {
  private final TaskScheduler scheduler;
  private final Executor executor;

  FailsafeSchedulerAdapter(TaskScheduler scheduler, Executor executor) {
    this.scheduler = scheduler;
    this.executor = executor;
  }

  @Override
  public ScheduledFuture<?> schedule(Callable<?> callable, long delay, TimeUnit unit) {
    Duration d = Duration.ofNanos(unit.toNanos(delay));
    Task task = new Task(callable, scheduler.clock().instant().plus(d));
    task.handle = scheduler.schedule(() -> executor.execute(task::runOnce), d);
    return task;
  }

  /**
   * One scheduled call. Cancelling it with interruption (what Failsafe's timeout does to a try that
   * runs too long) interrupts the thread running it, so a blocking SDK call returns; without that
   * a hung call would hold its job until the SDK itself gave up, whatever the timeout said.
   */
  private final class Task extends CompletableFuture<Object> implements ScheduledFuture<Object> {
    private final Callable<?> callable;
    private final Instant due;
    private volatile TaskScheduler.Cancellable handle;
    private Thread runner;

    Task(Callable<?> callable, Instant due) {
      this.callable = callable;
      this.due = due;
    }

    void runOnce() {
      synchronized (this) {
        if (isDone()) {
          return;
        }
        runner = Thread.currentThread();
      }
      try {
        complete(callable.call());
      } catch (Throwable t) {
        completeExceptionally(t);
      } finally {
        synchronized (this) {
          runner = null;
          // An interrupt meant for this call must not reach the next task of a pooled thread.
          Thread.interrupted();
        }
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      TaskScheduler.Cancellable h = handle;
      if (h != null) {
        h.cancel();
      }
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (mayInterruptIfRunning) {
        synchronized (this) {
          if (runner != null && runner != Thread.currentThread()) {
            runner.interrupt();
          }
        }
      }
      return cancelled;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(Duration.between(scheduler.clock().instant(), due).toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }
  }
}
