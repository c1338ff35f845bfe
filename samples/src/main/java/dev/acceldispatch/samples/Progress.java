package dev.acceldispatch.samples;

import dev.acceldispatch.JobState;
import dev.acceldispatch.event.DispatchEvent;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The demo's terminal view, fed by dispatcher events. On a terminal it keeps a block of progress
 * lines (queued, then provisioning/running/done per provider, then a bar) redrawn in place below
 * the scrolling event lines; elsewhere (a pipe, a CI log) it prints plain lines only.
 *
 * <p>{@link #onEvent} is a dispatcher listener: it only records, so it is fast and never throws;
 * the caller's thread draws with {@link #render}.
 */
final class Progress {
  private record Where(String provider, JobState state) {}

  private final PrintStream out;
  private final boolean live;
  private final List<String> providers;
  private final long started = System.nanoTime();
  private final Map<String, String> names = new ConcurrentHashMap<>();
  private final Map<String, Where> jobs = new ConcurrentHashMap<>();
  private final Queue<String> lines = new ConcurrentLinkedQueue<>();
  private volatile int expected;
  private int drawn;
  private String lastSummary = "";

  Progress(PrintStream out, boolean live, List<String> providers) {
    this.out = out;
    this.live = live;
    this.providers = List.copyOf(providers);
  }

  /** How many jobs the bar counts to. */
  void expect(int jobs) {
    this.expected = jobs;
  }

  /** A dispatcher listener. */
  void onEvent(DispatchEvent event) {
    if (event instanceof DispatchEvent.JobSubmitted s) {
      names.put(s.jobId(), s.jobName());
      jobs.put(s.jobId(), new Where(null, JobState.QUEUED));
    } else if (event instanceof DispatchEvent.AttemptStarted a) {
      jobs.computeIfPresent(a.jobId(), (k, w) -> new Where(a.offer().providerId(), w.state()));
      line(a.jobId(), "attempt " + a.attempt() + " on " + a.offer().key() + (a.spot() ? " (spot)" : ""));
    } else if (event instanceof DispatchEvent.JobStateChanged c) {
      jobs.computeIfPresent(c.jobId(), (k, w) -> new Where(w.provider(), c.to()));
      if (c.to() != JobState.PROVISIONING) {
        line(c.jobId(), c.from() + " -> " + c.to() + (c.reason() == null || c.reason().isEmpty() ? "" : ": " + c.reason()));
      }
    } else if (event instanceof DispatchEvent.Failover f) {
      line(f.jobId(), "FAILOVER from " + f.offer().key() + " (" + f.kind() + ")");
    } else if (event instanceof DispatchEvent.AttemptEnded a && a.outcome() != null
        && a.outcome() != dev.acceldispatch.AttemptOutcome.SUCCEEDED) {
      line(a.jobId(), "attempt " + a.attempt() + " ended " + a.outcome() + " on " + a.offer().key());
    }
  }

  private void line(String jobId, String what) {
    lines.add(String.format("%6.1fs  %-16s %s", seconds(), names.getOrDefault(jobId, jobId), what));
  }

  /** Prints what happened since the last call and, on a terminal, redraws the progress block. */
  synchronized void render(boolean last) {
    List<String> block = block();
    if (live) {
      StringBuilder sb = new StringBuilder();
      if (drawn > 0) {
        sb.append("\033[").append(drawn).append('F').append("\033[J"); // up to the block's start, clear below
      }
      for (String l; (l = lines.poll()) != null; ) {
        sb.append(l).append('\n');
      }
      block.forEach(l -> sb.append(l).append('\n'));
      out.print(sb);
      out.flush();
      drawn = block.size();
    } else {
      for (String l; (l = lines.poll()) != null; ) {
        out.println(l);
      }
      String summary = block.get(block.size() - 1);
      if (last || !summary.equals(lastSummary)) {
        if (last) {
          block.forEach(out::println);
        } else if (!summary.equals(lastSummary)) {
          out.println(summary);
        }
        lastSummary = summary;
      }
    }
  }

  private List<String> block() {
    Map<String, int[]> counts = new LinkedHashMap<>();
    providers.forEach(p -> counts.put(p, new int[3]));
    int queued = 0;
    int done = 0;
    for (Where w : jobs.values()) {
      if (w.state() == JobState.QUEUED) {
        queued++;
        continue;
      }
      int[] c = counts.computeIfAbsent(w.provider() == null ? "?" : w.provider(), k -> new int[3]);
      if (w.state() == JobState.PROVISIONING) {
        c[0]++;
      } else if (w.state() == JobState.RUNNING) {
        c[1]++;
      } else {
        c[2]++;
        done++;
      }
    }
    List<String> block = new ArrayList<>();
    block.add(String.format("  %-10s queued %2d", "dispatcher", queued));
    counts.forEach((p, c) -> block.add(String.format(
        "  %-10s provisioning %2d   running %2d   done %2d", p, c[0], c[1], c[2])));
    int total = Math.max(expected, jobs.size());
    int width = 30;
    int filled = total == 0 ? 0 : done * width / total;
    block.add(String.format("  [%s%s] %d/%d jobs done", "#".repeat(filled), ".".repeat(width - filled), done, total)
        + (live ? String.format(", %.0f s", seconds()) : ""));
    return block;
  }

  private double seconds() {
    return (System.nanoTime() - started) / 1e9;
  }
}
