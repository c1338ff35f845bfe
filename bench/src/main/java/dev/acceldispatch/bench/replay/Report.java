package dev.acceldispatch.bench.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes the replay's Markdown report, CSV of metrics and SVG chart. */
public final class Report {
  private static final String[] COLORS = {"#d62728", "#ff7f0e", "#1f77b4", "#2ca02c"};

  private Report() {}

  /** Writes {@code <name>.md}, {@code <name>.csv} and {@code <name>.svg} into {@code dir}. */
  public static Path write(Path dir, String name, String header, List<PolicyResult> results) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".csv"), csv(results), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve(name + ".svg"), svg(name, results), StandardCharsets.UTF_8);
    Path md = dir.resolve(name + ".md");
    Files.writeString(md, markdown(name, header, results), StandardCharsets.UTF_8);
    return md;
  }

  static String csv(List<PolicyResult> rs) {
    StringBuilder sb = new StringBuilder(
        "policy,name,jobs,succeeded,jobs_lost,cost_usd,lower_bound_usd,cost_over_lower_bound,tts_p50_s,tts_p95_s,tts_p99_s,"
            + "jct_p50_s,jct_p95_s,preemptions,preempted_accel_hours,api_calls,wall_ms,engine_events,events_per_s,simulated_s\n");
    for (PolicyResult r : rs) {
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%d,%d,%d,%.2f,%.2f,%.4f,%.1f,%.1f,%.1f,%.1f,%.1f,%d,%.2f,%d,%d,%d,%.0f,%d%n",
          r.policy().key(), r.policy().name(), r.jobs(), r.succeeded(), r.lost(), r.cost(), r.lowerBound(), r.costRatio(),
          r.timeToStart()[0], r.timeToStart()[1], r.timeToStart()[2], r.completion()[0], r.completion()[1],
          r.preemptions(), r.preemptedDeviceHours(), r.apiCalls(), r.wallMillis(), r.events(), r.eventsPerSecond(),
          r.simulatedSeconds()));
    }
    return sb.toString();
  }

  static String markdown(String name, String header, List<PolicyResult> rs) {
    StringBuilder sb = new StringBuilder("# Trace replay: ").append(name).append("\n\n").append(header).append("\n\n");
    sb.append("| policy | jobs | lost | cost (USD) | cost / lower bound | time to start p50 / p95 / p99 | completion p50 / p95 "
        + "| preemptions | accel-h lost to preemption | API calls | wall time | engine events/s |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (PolicyResult r : rs) {
      sb.append(String.format(Locale.ROOT, "| (%s) %s | %d | %d | %,.0f | %.3f | %s / %s / %s | %s / %s | %d | %,.1f | %,d | %.1f s | %,.0f |%n",
          r.policy().key(), r.policy().name(), r.jobs(), r.lost(), r.cost(), r.costRatio(),
          dur(r.timeToStart()[0]), dur(r.timeToStart()[1]), dur(r.timeToStart()[2]), dur(r.completion()[0]), dur(r.completion()[1]),
          r.preemptions(), r.preemptedDeviceHours(), r.apiCalls(), r.wallMillis() / 1000.0, r.eventsPerSecond()));
    }
    sb.append("\nLower bound (same for every policy): ")
        .append(String.format(Locale.ROOT, "%,.0f USD", rs.isEmpty() ? 0 : rs.get(0).lowerBound())).append(".\n\n");
    sb.append("## Policies\n\n");
    for (PolicyResult r : rs) {
      sb.append("- **(").append(r.policy().key()).append(") ").append(r.policy().name()).append("**: ").append(r.policy().how()).append("\n");
    }
    sb.append("\n## How each number was measured\n\n");
    sb.append("""
        - **cost**: what the simulated clouds billed: for every resource, its hourly price (on-demand or spot, from \
        `PriceCatalog.defaults()`) times the time from running until its workload stopped, it was preempted, or it was \
        deleted, whichever came first. Provisioning time is not billed.
        - **lower bound**: for each job, the cheapest (offer, tier) among all wired offers of its shapes (spot only if the \
        job allows spot) times its run time on that shape; no waiting, no preemption, unlimited capacity.
        - **time to start**: trace submit time to the first time the engine saw an attempt running (engine's \
        `Attempt.runningAt`); over succeeded jobs; percentiles by linear interpolation.
        - **completion**: submit to the engine seeing the successful attempt end (includes the status-poll lag).
        - **preemptions / accel-h lost**: counted by the simulated clouds when a preempted resource is deleted; \
        accelerator-hours = devices x the time that attempt had run (lost work: trace jobs do not checkpoint).
        - **API calls**: every create, get, delete and list call the engine made to the simulated clouds, retries included.
        - **jobs lost**: jobs that did not end SUCCEEDED (failed, cancelled or never ended). Must be 0.
        - **wall time**: `System.nanoTime` around one policy's whole replay (build, submit, drain), on this machine, \
        single thread. **engine events/s**: tasks run by the virtual-time `ManualScheduler` divided by that wall time.
        """);
    sb.append("\nChart: `").append(name).append(".svg` (queued jobs and cumulative cost over simulated time). CSV: `")
        .append(name).append(".csv`.\n");
    return sb.toString();
  }

  static String dur(double seconds) {
    if (Double.isNaN(seconds)) {
      return "-";
    }
    if (seconds < 120) {
      return String.format(Locale.ROOT, "%.0f s", seconds);
    }
    if (seconds < 7200) {
      return String.format(Locale.ROOT, "%.1f min", seconds / 60);
    }
    return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
  }

  static String svg(String name, List<PolicyResult> rs) {
    int w = 900;
    int ph = 260;
    int left = 80;
    int top = 40;
    int gap = 70;
    double maxH = 0;
    double maxQ = 1;
    double maxC = 1;
    for (PolicyResult r : rs) {
      for (PolicyResult.Sample s : r.samples()) {
        maxH = Math.max(maxH, s.hours());
        maxQ = Math.max(maxQ, s.queued());
        maxC = Math.max(maxC, s.cumulativeCost());
      }
    }
    maxH = Math.max(maxH, 1);
    StringBuilder sb = new StringBuilder();
    int height = top + 2 * ph + gap + 60;
    sb.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, height));
    sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    sb.append("<text x=\"").append(left).append("\" y=\"20\" font-size=\"15\">").append(esc(name)).append("</text>\n");
    panel(sb, rs, left, top, w - left - 20, ph, maxH, maxQ, "queued jobs", true);
    panel(sb, rs, left, top + ph + gap, w - left - 20, ph, maxH, maxC, "cumulative cost (USD)", false);
    int ly = height - 20;
    for (int i = 0; i < rs.size(); i++) {
      int x = left + i * 200;
      sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>", x, ly - 4, COLORS[i % COLORS.length]));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">(%s) %s</text>%n", x + 18, ly,
          rs.get(i).policy().key(), esc(rs.get(i).policy().name())));
    }
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static void panel(StringBuilder sb, List<PolicyResult> rs, int x0, int y0, int pw, int ph, double maxH,
      double maxY, String title, boolean queued) {
    sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n", x0, y0, pw, ph));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", x0, y0 - 6, esc(title)));
    for (int t = 0; t <= 4; t++) {
      double v = maxY * t / 4;
      int y = y0 + ph - (int) Math.round(ph * t / 4.0);
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%,.0f</text>%n", x0 - 4, y + 4, v));
      double h = maxH * t / 4;
      int x = x0 + (int) Math.round(pw * t / 4.0);
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, y0 + ph + 16,
          h >= 48 ? String.format(Locale.ROOT, "%.1f d", h / 24) : String.format(Locale.ROOT, "%.1f h", h)));
    }
    for (int i = 0; i < rs.size(); i++) {
      StringBuilder pts = new StringBuilder();
      for (PolicyResult.Sample s : rs.get(i).samples()) {
        double v = queued ? s.queued() : s.cumulativeCost();
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x0 + pw * s.hours() / maxH, y0 + ph - ph * v / maxY));
      }
      sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n",
          COLORS[i % COLORS.length], pts.toString().trim()));
    }
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
