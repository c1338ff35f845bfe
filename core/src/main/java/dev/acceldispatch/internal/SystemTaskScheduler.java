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

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
