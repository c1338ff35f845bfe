package dev.acceldispatch.bench.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line of the trace replay. See {@code bench/README.md}:
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.acceldispatch.bench.replay.ReplayMain \
 *     --trace philly [--from-days 0] [--days 0 (all)] [--time-scale 1] [--max-jobs N] [--seed 42] \
 *     [--policies abcdeo] [--capacity-scale X] [--out bench/target/reports]
 * </pre>
 */
public final class ReplayMain {
  private ReplayMain() {}

  /** The options of one replay. */
  public static final class Options {
    /** {@code philly}, {@code alibaba}, or a path to a CSV of the same format. */
    public String trace = "philly";
    /** Where the shared traces are; default the first of ../shared/traces, ../../shared/traces that exists. */
    public Path tracesDir;
    /** Window start, trace days. */
    public double fromDays;
    /** Window length, trace days; 0 for the whole trace. */
    public double days;
    /** Simulated seconds per trace second. */
    public double timeScale = 1;
    /** At most this many jobs. */
    public int maxJobs = Integer.MAX_VALUE;
    /** The model seed. */
    public long seed = 42;
    /** Which policies, by key. */
    public String policies = Policy.ALL;
    /** Capacity multiplier; NaN for the model file's value for the trace. */
    public double capacityScale = Double.NaN;
    /** Output directory. */
    public Path out = Path.of("bench", "target", "reports");
    /** Points of the time series. */
    public int samples = 400;
  }

  /** Runs the replay and prints where the report is. */
  public static void main(String[] args) throws IOException {
    Options o = parse(args);
    Path md = run(o);
    System.out.println(Files.readString(md));
    System.out.println("report: " + md.toAbsolutePath());
  }

  /** Parses the command line. */
  public static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--trace" -> o.trace = v;
        case "--traces-dir" -> o.tracesDir = Path.of(v);
        case "--from-days" -> o.fromDays = Double.parseDouble(v);
        case "--days" -> o.days = Double.parseDouble(v);
        case "--time-scale" -> o.timeScale = Double.parseDouble(v);
        case "--max-jobs" -> o.maxJobs = Integer.parseInt(v);
        case "--seed" -> o.seed = Long.parseLong(v);
        case "--policies" -> o.policies = v;
        case "--capacity-scale" -> o.capacityScale = Double.parseDouble(v);
        case "--out" -> o.out = Path.of(v);
        case "--samples" -> o.samples = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option " + a
            + "; known: --trace --traces-dir --from-days --days --time-scale --max-jobs --seed --policies --capacity-scale --out --samples");
      }
    }
    return o;
  }

  /** Runs every policy of {@code o} on the same trace window and seed; returns the Markdown report. */
  public static Path run(Options o) throws IOException {
    ModelParameters model = ModelParameters.defaults();
    Path csv = traceFile(o);
    String traceName = o.trace.equals("philly") || o.trace.equals("alibaba") ? o.trace : "default";
    double capacityScale = Double.isNaN(o.capacityScale) ? model.number("capacity.scale." + traceName) : o.capacityScale;
    long readStart = System.nanoTime();
    List<TraceJob> jobs = TraceReader.read(csv, Math.round(o.fromDays * 86_400), Math.round(o.days * 86_400), o.timeScale, o.maxJobs);
    long readMs = (System.nanoTime() - readStart) / 1_000_000;
    Replay replay = new Replay(model, o.seed, capacityScale, o.samples);
    List<PolicyResult> results = new ArrayList<>();
    for (char k : o.policies.toCharArray()) {
      PolicyResult r = replay.run(Policy.of(String.valueOf(k)), jobs);
      System.out.printf(Locale.ROOT, "policy (%s) %s: %d jobs, lost %d, cost %.0f USD (%.3f x lower bound), %d events in %.1f s wall%n",
          r.policy().key(), r.policy().name(), r.jobs(), r.lost(), r.cost(), r.costRatio(), r.events(), r.wallMillis() / 1000.0);
      results.add(r);
    }
    long totalWall = results.stream().mapToLong(PolicyResult::wallMillis).sum();
    String header = String.format(Locale.ROOT,
        "Trace `%s`, window from day %.1f, %s, time scale %.3g (simulated s per trace s), %,d jobs, seed %d, capacity scale %.3g. "
            + "Model: `bench/src/main/resources%s`. Reading the trace took %d ms; the %d policies took %.1f s of wall time in all "
            + "(one thread, this machine: %d cores reported by the JVM).",
        csv.getFileName(), o.fromDays, o.days <= 0 ? "to the end" : String.format(Locale.ROOT, "%.1f days", o.days),
        o.timeScale, jobs.size(), o.seed, capacityScale, ModelParameters.RESOURCE, readMs, results.size(), totalWall / 1000.0,
        Runtime.getRuntime().availableProcessors());
    String name = "replay-" + (traceName.equals("default") ? "trace" : traceName);
    return Report.write(o.out, name, header, results);
  }

  private static Path traceFile(Options o) {
    if (!o.trace.equals("philly") && !o.trace.equals("alibaba")) {
      return Path.of(o.trace);
    }
    String file = o.trace.equals("philly") ? "philly_2017_rfold.csv" : "alibaba_gpu_v2023_openb.csv";
    List<Path> dirs = o.tracesDir != null ? List.of(o.tracesDir)
        : List.of(Path.of("..", "shared", "traces"), Path.of("..", "..", "shared", "traces"));
    for (Path d : dirs) {
      if (Files.isRegularFile(d.resolve(file))) {
        return d.resolve(file);
      }
    }
    throw new IllegalArgumentException("trace " + file + " not found in " + dirs + "; pass --traces-dir");
  }
}
