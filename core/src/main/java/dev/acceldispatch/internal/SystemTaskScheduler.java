package dev.acceldispatch.internal;

import dev.acceldispatch.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link TaskScheduler}: real time, one daemon thread, owned by the dispatcher that
 * created it and shut down with it.
 */
final class SystemTaskScheduler implements TaskScheduler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SystemTaskScheduler.class);
  private final ScheduledThreadPoolExecutor executor;
  private final Clock clock;

  SystemTaskScheduler(String threadName) {
    this.clock = Clock.systemUTC();
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    try {
      ScheduledFuture<?> f =
          executor.schedule(
              () -> {
                try {
                  task.run();
                } catch (RuntimeException | Error e) {
                  log.error("dispatcher task failed", e);
                }
              },
              Math.max(0, delay.toNanos()),
              TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return () -> {};
    }
  }

  /**
   * Stops taking tasks, drops those not started, and waits up to {@code grace} for the one
   * running to finish before interrupting it: an interrupt in the middle of a store write closes
   * a file-based database's channel ({@code ClosedByInterruptException}), which leaves the host's
   * store unusable for the rest of the process.
   */
  void close(Duration grace) {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("dispatcher task still running {} after close; interrupting it", grace);
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
