package dev.acceldispatch.bench.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Writes the replay's Markdown report, CSV of metrics, and two charts ({@link Charts}): each as
 * SVG and PNG.
 */
public final class Report {
  private Report() {}

  /**
   * Writes {@code <name>.md}, {@code <name>.csv}, {@code <name>.svg}/{@code .png} (queued jobs and
   * cumulative cost over time) and {@code <name>-summary.svg}/{@code .png} (cost and time to
   * start per policy) into {@code dir}.
   */
  public static Path write(Path dir, String name, String header, List<PolicyResult> results) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".csv"), csv(results), StandardCharsets.UTF_8);
    Charts.write(dir, name, results);
    Path md = dir.resolve(name + ".md");
    Files.writeString(md, markdown(name, header, results), StandardCharsets.UTF_8);
    return md;
  }

  /** The clairvoyant reference's cost, when (o) ran in the same report. */
  static Optional<Double> clairvoyantCost(List<PolicyResult> rs) {
    return rs.stream().filter(r -> r.policy().key().equals("o")).map(PolicyResult::cost).findFirst();
  }

  /** Cost over the clairvoyant reference's, formatted, or n/a. */
  static String overClairvoyant(PolicyResult r, List<PolicyResult> rs) {
    return clairvoyantCost(rs).filter(c -> c > 0).map(c -> String.format(Locale.ROOT, "%.4f", r.cost() / c)).orElse("n/a");
  }

  static String csv(List<PolicyResult> rs) {
    StringBuilder sb = new StringBuilder(
        "policy,name,jobs,succeeded,jobs_lost,cost_usd,lower_bound_usd,cost_over_lower_bound,tts_p50_s,tts_p95_s,tts_p99_s,"
            + "jct_p50_s,jct_p95_s,preemptions,preempted_accel_hours,api_calls,wall_ms,engine_events,events_per_s,simulated_s,"
            + "cost_over_clairvoyant,idle_billed_hours,failed_creates,deadline_misses\n");
    for (PolicyResult r : rs) {
      // deadline_misses: the trace jobs have no deadlines yet (JobSpec has none), so n/a.
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%d,%d,%d,%.2f,%.2f,%.4f,%.1f,%.1f,%.1f,%.1f,%.1f,%d,%.2f,%d,%d,%d,%.0f,%d,%s,%.2f,%d,n/a%n",
          r.policy().key(), r.policy().name(), r.jobs(), r.succeeded(), r.lost(), r.cost(), r.lowerBound(), r.costRatio(),
          r.timeToStart()[0], r.timeToStart()[1], r.timeToStart()[2], r.completion()[0], r.completion()[1],
          r.preemptions(), r.preemptedDeviceHours(), r.apiCalls(), r.wallMillis(), r.events(), r.eventsPerSecond(),
          r.simulatedSeconds(), overClairvoyant(r, rs), r.idleBilledHours(), r.failedCreates()));
    }
    return sb.toString();
  }

  static String markdown(String name, String header, List<PolicyResult> rs) {
    StringBuilder sb = new StringBuilder("# Trace replay: ").append(name).append("\n\n").append(header).append("\n\n");
    sb.append("| policy | jobs | lost | cost (USD) | cost / clairvoyant (o) | cost / unlimited-capacity bound "
        + "| time to start p50 / p95 / p99 | completion p50 / p95 | failed creates | idle billed machine-h "
        + "| preemptions | accel-h lost to preemption | deadline misses | API calls | wall time |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (PolicyResult r : rs) {
      sb.append(String.format(Locale.ROOT, "| (%s) %s | %d | %d | %,.0f | %s | %.3f | %s / %s / %s | %s / %s | %,d | %,.1f | %d | %,.1f | n/a | %,d | %.1f s |%n",
          r.policy().key(), r.policy().name(), r.jobs(), r.lost(), r.cost(), overClairvoyant(r, rs), r.costRatio(),
          dur(r.timeToStart()[0]), dur(r.timeToStart()[1]), dur(r.timeToStart()[2]), dur(r.completion()[0]), dur(r.completion()[1]),
          r.failedCreates(), r.idleBilledHours(), r.preemptions(), r.preemptedDeviceHours(), r.apiCalls(), r.wallMillis() / 1000.0));
    }
    sb.append("\nUnlimited-capacity lower bound (same for every policy; it measures the model's scarcity as much as any "
            + "policy, hence the clairvoyant reference): ")
        .append(String.format(Locale.ROOT, "%,.0f USD", rs.isEmpty() ? 0 : rs.get(0).lowerBound())).append(".\n\n");
    sb.append("## Policies\n\n");
    for (PolicyResult r : rs) {
      sb.append("- **(").append(r.policy().key()).append(") ").append(r.policy().name()).append("**: ").append(r.policy().how()).append("\n");
    }
    sb.append("\n## How each number was measured\n\n");
    sb.append("""
        - **cost**: what the simulated clouds billed: for every machine, its hourly price (on-demand or spot, from \
        `PriceCatalog.defaults()`) times the time from the moment the cloud held it (the accepted create; a queued TPU \
        resource once filled) until it was deleted, or until the cloud took it back (preemption), with the cloud's minimum \
        charge (GCE: 1 min). Boot, idle time after the workload's exit until the engine's delete, and hedge losers are \
        billed. A refused create bills nothing.
        - **cost / clairvoyant (o)**: cost over the cost of policy (o) in the same run: the same engine told in advance \
        which creates fail and which spot machines are preempted. n/a when (o) did not run.
        - **unlimited-capacity bound**: for each job, the cheapest (offer, tier) among all wired offers of its shapes (spot \
        only if the job allows spot) times its run time on that shape; no waiting, no preemption, unlimited capacity.
        - **time to start**: trace submit time to the moment the first machine of the job started running its workload, \
        as the simulation knows it (not when a poll noticed); over succeeded jobs; percentiles by linear interpolation.
        - **completion**: submit to the moment the successful attempt's workload ended (simulation time).
        - **failed creates**: creates the clouds refused for lack of capacity (after the cloud's refusal latency, model \
        file `refusal.*`), plus queued TPU resources deleted before they were filled.
        - **idle billed machine-h**: machine-hours billed while no workload ran on the machine: boot, after the \
        workload's exit until the delete, and machines deleted before they ran (hedge losers).
        - **deadline misses**: n/a: trace jobs carry no deadline yet (`JobSpec` has none; issue 15 part 2).
        - **preemptions / accel-h lost**: counted by the simulated clouds when a preempted resource is deleted; \
        accelerator-hours = devices x the time that attempt had run (lost work: trace jobs do not checkpoint).
        - **API calls**: every create, get, delete and list call the engine made to the simulated clouds, retries included.
        - **jobs lost**: jobs that did not end SUCCEEDED (failed, cancelled or never ended). Must be 0.
        - **wall time**: `System.nanoTime` around one policy's whole replay (build, submit, drain), on this machine, \
        single thread.
        """);
    sb.append("\nCharts: `").append(name).append(".svg`/`.png` (queued jobs and cumulative cost over the trace window), `")
        .append(name).append("-summary.svg`/`.png` (cost over the clairvoyant reference and time to start p95 per policy). CSV: `")
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
}
