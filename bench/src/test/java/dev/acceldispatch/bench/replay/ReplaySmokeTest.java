package dev.acceldispatch.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI check of the benchmarks: a tiny replay runs every policy and writes its report. It replays
 * a small synthetic trace in the shared traces' format, written here, so that it runs on a bare
 * clone too (the real traces live beside the repository, not in it).
 */
class ReplaySmokeTest {

  /** {@code jobs} jobs in the traces' common columns: one submit every 1-10 min, 1-8 GPUs, 1 min to 3 h. */
  static Path syntheticTrace(Path dir, int jobs) throws java.io.IOException {
    java.util.Random r = new java.util.Random(7);
    StringBuilder csv = new StringBuilder("job_id,submit_time_s,gpu_count,duration_s\n");
    long t = 0;
    int[] gpus = {1, 1, 1, 2, 4, 8};
    for (int i = 0; i < jobs; i++) {
      t += 60 + r.nextInt(540);
      csv.append("job-").append(i).append(',').append(t).append(',').append(gpus[r.nextInt(gpus.length)])
          .append(',').append(60 + r.nextInt(3 * 3600)).append('\n');
    }
    Files.createDirectories(dir);
    Path file = dir.resolve("synthetic.csv");
    Files.writeString(file, csv);
    return file;
  }

  @Test
  void run_fewHundredJobs_writesReportCsvAndChartWithNoJobLost(@TempDir Path out) throws Exception {
    Path trace = syntheticTrace(out.resolve("trace"), 200);
    ReplayMain.Options o = ReplayMain.parse(new String[] {
        "--trace", trace.toString(), "--out", out.toString(), "--samples", "50"});

    Path md = ReplayMain.run(o);

    assertThat(md).exists();
    String report = Files.readString(md);
    assertThat(report).contains("(a) single-region", "(b) SkyPilot managed jobs", "(c) AccelDispatch default",
        "(d) AccelDispatch BALANCED + hedging", "(e) cheapest-first failover with a shared blocklist", "(o) clairvoyant reference");
    List<String> csv = Files.readAllLines(out.resolve("replay-trace.csv"));
    assertThat(csv).hasSize(7);
    assertThat(csv.get(0)).endsWith(",cost_over_clairvoyant,idle_billed_hours,failed_creates,deadline_misses");
    for (String row : csv.subList(1, csv.size())) {
      String[] f = row.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
      assertThat(Integer.parseInt(f[2])).as("jobs in %s", row).isEqualTo(200);
      assertThat(Integer.parseInt(f[4])).as("jobs lost in %s", row).isZero();
      assertThat(Double.parseDouble(f[7])).as("cost over lower bound in %s", row).isGreaterThanOrEqualTo(1.0);
    }
    assertThat(Files.readString(out.resolve("replay-trace.svg"))).contains("<svg", "(o) clairvoyant reference");
    assertThat(Files.readString(out.resolve("replay-trace-summary.svg"))).contains("<svg", "cost / clairvoyant");
    assertThat(out.resolve("replay-trace.png")).isNotEmptyFile();
  }

  @Test
  void run_sameSeedTwice_sameMetrics(@TempDir Path out) throws Exception {
    List<String> first = metricsWithoutWallTime(out.resolve("1"));
    List<String> second = metricsWithoutWallTime(out.resolve("2"));

    assertThat(second).isEqualTo(first);
  }

  private static List<String> metricsWithoutWallTime(Path out) throws Exception {
    Path trace = syntheticTrace(out.resolve("trace"), 80);
    ReplayMain.run(ReplayMain.parse(new String[] {
        "--trace", trace.toString(), "--policies", "bco", "--out", out.toString(), "--samples", "20"}));
    // Columns 16-18 are wall time, engine events and events per second: measured, not simulated.
    return Files.readAllLines(out.resolve("replay-trace.csv")).stream()
        .map(l -> {
          String[] f = l.split(",");
          return String.join(",", java.util.Arrays.copyOfRange(f, 0, 16)) + "," + String.join(",", java.util.Arrays.copyOfRange(f, 19, f.length));
        })
        .toList();
  }

  @Test
  void read_windowAndTimeScale_shiftsAndScalesTimes(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("t.csv");
    Files.writeString(csv, "job_id,submit_time_s,gpu_count,duration_s,extra\n1,50,1,10,x\n2,100,2,40,y\n3,300,8,1,z\n");

    List<TraceJob> jobs = TraceReader.read(csv, 100, 150, 0.5, 10);

    assertThat(jobs).containsExactly(new TraceJob("2", 0, 2, 20));
  }

  /** A burst of 8-GPU jobs on a cloud cut to one 8-device machine per (zone, type): every location fills. */
  private static List<TraceJob> burst(int jobs) {
    List<TraceJob> out = new java.util.ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      out.add(new TraceJob("burst-" + i, 60L * (i / 10), 8, 3 * 3600 + 60L * i));
    }
    return out;
  }

  @Test
  void run_clairvoyantOnAScarceCloud_neverSendsAFailingCreateAndIsNeverPreempted() {
    Replay replay = new Replay(ModelParameters.defaults(), 42, 0.05, 20);

    PolicyResult o = replay.run(Policy.of("o"), burst(60));

    assertThat(o.lost()).isZero();
    assertThat(o.failedCreates()).isZero();
    assertThat(o.preemptions()).isZero();
  }

  @Test
  void run_skyPilotOnAScarceCloud_failsOverThenSleepsAndRelaunchesWithNoJobLost() {
    Replay replay = new Replay(ModelParameters.defaults(), 42, 0.05, 20);

    PolicyResult b = replay.run(Policy.of("b"), burst(60));

    assertThat(b.lost()).isZero();
    assertThat(b.failedCreates()).isPositive();
    assertThat(b.relaunches()).as("relaunches after every location failed").isPositive();
  }

  @Test
  void lowerBound_isCheapestShapeAndTierOverAllOffers() {
    ModelParameters m = ModelParameters.defaults();
    JobMapping mapping = new JobMapping(m);
    TraceJob job = new TraceJob("42", 0, 1, 3600);
    var offers = SimulatedClouds.offersIn("gcp-gpu", "us-central1", "us-central1-a", dev.acceldispatch.PriceCatalog.defaults());

    double bound = mapping.lowerBound(job, offers);

    // Candidates: A100 40GB 1h at 3.67 (1.45 spot), T4 4.8h at 0.54 (0.18), L4 2.58h at 0.71 (0.28).
    assertThat(bound).isLessThan(3.67).isGreaterThan(0);
  }
}
