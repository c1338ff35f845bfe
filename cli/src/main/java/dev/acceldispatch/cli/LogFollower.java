package dev.acceldispatch.cli;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.LogChunk;
import dev.acceldispatch.spi.LogSource;
import dev.acceldispatch.spi.Provider;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Prints an attempt's output through its provider's {@link LogSource}: once, or followed until the
 * job ends. Without an attempt number it starts at the latest attempt and moves on to the next one
 * when a preempted job is retried. Standard output lines go to {@code out}, standard error lines to
 * {@code err}.
 */
final class LogFollower {
  private static final int BATCH = 500;

  private final JobStore store;
  private final Map<String, Provider> providers;
  private final PrintWriter out;
  private final PrintWriter err;
  private final Duration poll;

  LogFollower(JobStore store, Map<String, Provider> providers, PrintWriter out, PrintWriter err, Duration poll) {
    this.store = store;
    this.providers = providers;
    this.out = out;
    this.err = err;
    this.poll = poll;
  }

  /**
   * Prints the output of {@code jobId}'s attempt {@code attemptNumber} (the latest when {@code
   * null}); with {@code follow}, keeps printing until the job has ended.
   */
  void print(String jobId, Integer attemptNumber, boolean follow) throws InterruptedException {
    JobRecord rec = find(jobId);
    if (attemptNumber != null && (attemptNumber < 1 || attemptNumber > rec.attempts().size()) && !follow) {
      throw UserError.invalid("--attempt: job " + jobId + " has " + describeAttempts(rec) + ", got " + attemptNumber);
    }
    int current = attemptNumber != null ? attemptNumber : Math.max(1, rec.attempts().size());
    long outPos = 0;
    long errPos = 0;
    while (true) {
      Optional<Attempt> a = attempt(rec, current);
      if (a.isPresent()) {
        LogSource source = sourceOf(a.get());
        outPos = drain(source, a.get(), LogSource.Stream.STDOUT, outPos, out);
        errPos = drain(source, a.get(), LogSource.Stream.STDERR, errPos, err);
        if (!follow) {
          return;
        }
        if (!a.get().isLive()) {
          if (attemptNumber == null && rec.attempts().size() > current) {
            current++;
            outPos = 0;
            errPos = 0;
            Attempt next = rec.attempts().get(current - 1);
            err.println("--- attempt " + current + " on " + Render.where(next.offer()) + " ---");
            err.flush();
            continue;
          }
          if (attemptNumber != null || rec.state().isTerminal()) {
            return;
          }
        }
      } else if (!follow || rec.state().isTerminal()) {
        if (!follow && attemptNumber == null) {
          err.println("job " + jobId + " has no attempt yet (" + rec.state() + ")");
          err.flush();
        }
        return;
      }
      Thread.sleep(poll.toMillis());
      rec = find(jobId);
    }
  }

  private long drain(LogSource source, Attempt a, LogSource.Stream stream, long position, PrintWriter to) {
    long pos = position;
    while (true) {
      LogChunk c = source.readLog(a, stream, pos, BATCH);
      c.lines().forEach(to::println);
      to.flush();
      if (c.lines().isEmpty() || c.nextPosition() == pos) {
        return c.nextPosition();
      }
      pos = c.nextPosition();
    }
  }

  private LogSource sourceOf(Attempt a) {
    Provider p = providers.get(a.offer().providerId());
    if (p == null) {
      throw UserError.invalid("attempt " + a.number() + " ran on provider '" + a.offer().providerId()
          + "', which this configuration does not wire; configured: " + providers.keySet());
    }
    if (!(p instanceof LogSource s)) {
      throw UserError.invalid("provider '" + p.id() + "' offers no log surface to this tool");
    }
    return s;
  }

  private JobRecord find(String jobId) {
    return store.find(jobId).orElseThrow(() -> new UserError(ExitCodes.NOT_FOUND, "no job " + jobId + " in the store"));
  }

  private static Optional<Attempt> attempt(JobRecord r, int number) {
    return number >= 1 && number <= r.attempts().size() ? Optional.of(r.attempts().get(number - 1)) : Optional.empty();
  }

  private static String describeAttempts(JobRecord r) {
    return r.attempts().isEmpty() ? "no attempts yet" : "attempts 1 to " + r.attempts().size();
  }
}
