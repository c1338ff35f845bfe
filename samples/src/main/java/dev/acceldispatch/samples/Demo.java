package dev.acceldispatch.samples;

import static dev.acceldispatch.AcceleratorType.NVIDIA_A100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_H100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_L4;
import static dev.acceldispatch.AcceleratorType.NVIDIA_T4;

import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PlannedOffer;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.local.LocalProvider;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The README's first command: three emulated clouds and this machine, one dispatcher, a mixed
 * workload of two tenants, and the three things that go wrong in real life (a zone runs out of
 * capacity, a quota says no, a spot machine is taken back). Shows live progress, then a table of
 * every job: where it ran, how many attempts, why it failed over, what it cost.
 *
 * <p>Exits 0 only when every job ended as expected, each of the three injected failures was seen
 * and handled, and no machine is left behind in any cloud. Needs no credentials and no network:
 * the clouds are the testkit's emulators on the loopback address, spoken to by the real Google
 * and Azure SDK clients.
 */
public final class Demo {
  /** How long the whole demo may take before it gives up. */
  static final Duration DEADLINE = Duration.ofSeconds(100);

  private static final Duration BOOT = Duration.ofMillis(800);
  private static final Duration WORKLOAD = Duration.ofSeconds(4);
  private static final String IMAGE = "us-docker.pkg.dev/demo/train:1.4";

  private Demo() {}

  /** Runs the demo; exits with status 1 when something did not end as expected. */
  public static void main(String[] args) {
    if (System.getProperty("org.slf4j.simpleLogger.logFile") == null) {
      // The engine logs (with job id, attempt, provider and zone) go to a file, so they do not
      // tear through the live progress on the terminal; a file per run, so two runs never mix.
      logFile = newLogFile();
      System.setProperty("org.slf4j.simpleLogger.logFile", logFile.toString());
    }
    // Under 'mvn -q' Maven sets simplelogger's default level to ERROR in this JVM's system
    // properties, which left the engine log empty; the library's own level is set explicitly.
    if (System.getProperty("org.slf4j.simpleLogger.log.dev.acceldispatch") == null) {
      System.setProperty("org.slf4j.simpleLogger.log.dev.acceldispatch", "info");
    }
    boolean terminal = System.console() != null;
    // On a terminal, write to file descriptor 1 directly: under Maven (exec:java) System.out is
    // wrapped by a stream that strips the ANSI codes the in-place progress needs.
    PrintStream out = terminal
        ? new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8)
        : System.out;
    int status = run(out, terminal);
    out.flush();
    if (status != 0) {
      System.exit(status);
    }
  }

  /** This run's engine log, or {@code null} when the host chose where simplelogger writes. */
  private static Path logFile;

  /**
   * Where the demo's logs go: {@code accel.demo.logDir} (the README's command sets it to {@code
   * samples/target/demo-logs}, so a run leaves nothing in the temp directory and {@code mvn clean}
   * removes it), else the temp directory.
   */
  static Path logDirectory() {
    String dir = System.getProperty("accel.demo.logDir");
    return Path.of(dir != null && !dir.isBlank() ? dir : System.getProperty("java.io.tmpdir"));
  }

  /** A new, empty log file for one run of the demo. */
  static Path newLogFile() {
    Path dir = logDirectory();
    try {
      Files.createDirectories(dir);
      return Files.createTempFile(dir, "accel-dispatch-demo-", ".log");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the demo's log file in " + dir, e);
    }
  }

  /**
   * Runs the demo, printing to {@code out}; with {@code live} the progress is redrawn in place
   * (ANSI), otherwise it is printed as plain lines.
   *
   * @return 0 when everything ended as expected, 1 otherwise
   */
  public static int run(PrintStream out, boolean live) {
    long started = System.nanoTime();
    Path home;
    try {
      home = Files.createTempDirectory("accel-dispatch-demo");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> problems = new ArrayList<>();
    out.println("AccelDispatch demo: 3 emulated clouds (Cloud TPU, Compute Engine, Azure) + this machine");
    // The embedded durable default: jobs and attempts in an H2 file, written before any cloud call.
    try (EmulatedClouds clouds = EmulatedClouds.start(BOOT, WORKLOAD);
        JdbcJobStore store = JdbcJobStore.h2File(home.resolve("jobs"))) {
      LocalProvider local = LocalProvider.builder(home.resolve("state"))
          .logDirectory(home.resolve("logs"))
          .nvidiaSmi(home.resolve("no-nvidia-smi").toString()) // CPU only, even on a GPU workstation
          .cpuSlots(2)
          .build();
      Progress progress = new Progress(out, live, List.of("gcp-tpu", "gcp-gpu", "azure-gpu", local.id()));
      List<DispatchEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      Dispatcher.Builder builder = Dispatcher.builder()
          .fleetId("demo")
          .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
          .tenant("research", TenantQuota.UNLIMITED.withWeight(2))
          .tenant("prod", TenantQuota.UNLIMITED)
          .listener(events::add)
          .listener(progress::onEvent)
          .store(store)
          .provider(local);
      clouds.providers().forEach(builder::provider);

      Map<String, JobHandle> jobs = new LinkedHashMap<>();
      try (Dispatcher dispatcher = builder.build()) {
        List<JobSpec> workload = workload();
        out.println();
        out.println("Injected by the cloud models:");
        injectStockout(dispatcher, clouds, workload.get(0), out);
        injectQuota(dispatcher, clouds, workload.get(4), out);
        out.println("  - the first spot machine of 't4-batch-spot' will be preempted once it runs");
        out.println();
        for (JobSpec spec : workload) {
          jobs.put(spec.name(), dispatcher.submit(spec));
        }
        progress.expect(jobs.size());

        CompletableFuture<Void> all =
            CompletableFuture.allOf(jobs.values().stream().map(JobHandle::result).toArray(CompletableFuture[]::new));
        boolean preempted = false;
        long deadline = started + DEADLINE.toNanos();
        while (!all.isDone() && System.nanoTime() < deadline) {
          if (!preempted) {
            preempted = preemptWhenRunning(jobs.get("t4-batch-spot"), clouds, out);
          }
          progress.render(false);
          try {
            all.get(150, TimeUnit.MILLISECONDS);
          } catch (java.util.concurrent.TimeoutException e) {
            // keep drawing
          } catch (java.util.concurrent.ExecutionException e) {
            break;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        progress.render(true);
        if (!all.isDone()) {
          problems.add("not every job ended within " + DEADLINE.toSeconds() + " s");
        }
        out.println();
        printTable(out, jobs, events);
        Map<String, JobState> states = new LinkedHashMap<>();
        jobs.forEach((name, job) -> states.put(name, job.state()));
        problems.addAll(problems(states, events));
        printLocalOutput(out, jobs.get("local-smoke"));
      }
      // The dispatcher is closed: every machine it created must be gone from every cloud.
      if (!awaitNoResources(clouds)) {
        problems.add(clouds.liveResources() + " cloud resources left behind after close");
      }
    } finally {
      deleteTree(home);
    }
    out.println();
    if (logFile != null) {
      out.printf("Engine log: %s%n", logFile);
    }
    out.printf("Finished in %.1f s.%n", (System.nanoTime() - started) / 1e9);
    if (problems.isEmpty()) {
      out.println("OK: every job ended as expected; nothing left running in any cloud.");
      return 0;
    }
    problems.forEach(p -> out.println("PROBLEM: " + p));
    return 1;
  }

  /** Eleven jobs, two tenants: TPU v5e slices, single and multi-GPU, spot and on-demand, a local job. */
  static List<JobSpec> workload() {
    return List.of(
        cloudJob("tpu-pretrain-8", "research").accelerators(Shapes.tpuV5e(8)).spot(SpotPolicy.NEVER).build(),
        cloudJob("tpu-sweep-4a", "research").accelerators(Shapes.tpuV5e(4)).spot(SpotPolicy.ONLY).build(),
        cloudJob("tpu-sweep-4b", "research").accelerators(Shapes.tpuV5e(4)).spot(SpotPolicy.PREFER).build(),
        cloudJob("tpu-eval-1", "prod").accelerators(Shapes.tpuV5e(1)).spot(SpotPolicy.NEVER).build(),
        cloudJob("h100x8-finetune", "research").accelerators(Shapes.gpu(NVIDIA_H100_80GB, 8))
            .spot(SpotPolicy.NEVER).build(),
        cloudJob("h100-or-tpu", "research")
            .accelerators(AcceleratorRequest.anyOf(Shapes.gpu(NVIDIA_H100_80GB, 8), Shapes.tpuV5e(16)))
            .referenceRunTime(Shapes.gpu(NVIDIA_H100_80GB, 8), Duration.ofHours(2))
            .spot(SpotPolicy.PREFER).build(),
        cloudJob("a100-serve", "prod").accelerators(Shapes.gpu(NVIDIA_A100_80GB, 1)).spot(SpotPolicy.NEVER).build(),
        cloudJob("t4-batch-spot", "prod").accelerators(Shapes.gpu(NVIDIA_T4, 1)).spot(SpotPolicy.ONLY).build(),
        cloudJob("t4x2-embed", "prod").accelerators(Shapes.gpu(NVIDIA_T4, 2)).spot(SpotPolicy.PREFER).build(),
        cloudJob("l4-infer", "prod").accelerators(Shapes.gpu(NVIDIA_L4, 1)).spot(SpotPolicy.NEVER).build(),
        JobSpec.builder("local-smoke").tenant("prod")
            .script("echo \"hello from $ACCEL_DISPATCH_JOB_ID, attempt $ACCEL_DISPATCH_ATTEMPT\"; sleep 2")
            .accelerators(Shapes.cpu()).build());
  }

  private static JobSpec.Builder cloudJob(String name, String tenant) {
    return JobSpec.builder(name).tenant(tenant).container(IMAGE, "python", "train.py", "--job=" + name);
  }

  /** The zone placement ranks first for the job runs out of TPU v5e capacity. */
  private static void injectStockout(Dispatcher dispatcher, EmulatedClouds clouds, JobSpec spec, PrintStream out) {
    Offer best = dispatcher.plan(spec).ranked().get(0).offer();
    clouds.model(best.providerId()).stockout(best.zone(), TpuEmulator.POOL, Duration.ofMinutes(10));
    out.printf("  - zone stockout: no TPU v5e capacity in %s (the first choice for '%s')%n", best.zone(), spec.name());
  }

  /** The region placement ranks first for the job has no H100 quota left. */
  private static void injectQuota(Dispatcher dispatcher, EmulatedClouds clouds, JobSpec spec, PrintStream out) {
    PlannedOffer best = dispatcher.plan(spec).ranked().get(0);
    Offer o = best.offer();
    String quota = o.providerId().equals("azure-gpu") ? "standardNDSH100v5Family" : "NVIDIA_H100_GPUS";
    clouds.model(o.providerId()).setQuota(o.region(), quota, 0);
    out.printf("  - quota error: %s = 0 in %s/%s (the first choice for '%s')%n", quota, o.providerId(), o.region(), spec.name());
  }

  /** Takes the job's spot machine back once it runs; true when done. */
  private static boolean preemptWhenRunning(JobHandle job, EmulatedClouds clouds, PrintStream out) {
    if (job.state() != JobState.RUNNING) {
      return false;
    }
    Optional<Attempt> live = job.attempts().stream().filter(Attempt::isLive).findFirst();
    if (live.isEmpty()) {
      return false;
    }
    Attempt a = live.get();
    return clouds.model(a.offer().providerId()).preempt(a.resourceName());
  }

  /**
   * What did not go as expected: a job that did not succeed, or one of the three injected failures
   * that was never seen and handled. Empty when the demo may exit 0.
   */
  static List<String> problems(Map<String, JobState> states, List<DispatchEvent> events) {
    List<String> problems = new ArrayList<>();
    states.forEach((name, state) -> {
      if (state != JobState.SUCCEEDED) {
        problems.add(name + " ended " + state + ", expected SUCCEEDED");
      }
    });
    if (events.stream().noneMatch(e -> e instanceof DispatchEvent.Failover f && f.kind().equals("capacity"))) {
      problems.add("no failover for the zone stockout was seen");
    }
    if (events.stream().noneMatch(e -> e instanceof DispatchEvent.Failover f && f.kind().equals("quota"))) {
      problems.add("no failover for the quota error was seen");
    }
    if (events.stream().noneMatch(e -> e instanceof DispatchEvent.AttemptEnded a && a.outcome() == AttemptOutcome.PREEMPTED)) {
      problems.add("no spot preemption was seen");
    }
    return problems;
  }

  private static void printTable(PrintStream out, Map<String, JobHandle> jobs, List<DispatchEvent> events) {
    String fmt = "%-16s %-8s %-9s %-9s %-42s %8s  %-44s %9s%n";
    out.printf(fmt, "JOB", "TENANT", "TIER", "STATE", "RAN ON", "ATTEMPTS", "FAILOVERS AND PREEMPTIONS (WHY)", "COST");
    Map<String, Money> byTenant = new LinkedHashMap<>();
    Map<String, Integer> byKind = new LinkedHashMap<>();
    int attempts = 0;
    int succeeded = 0;
    Money total = Money.ZERO;
    for (JobHandle job : jobs.values()) {
      List<Attempt> tries = job.attempts();
      Optional<Attempt> last = tries.isEmpty() ? Optional.empty() : Optional.of(tries.get(tries.size() - 1));
      List<String> why = new ArrayList<>();
      for (DispatchEvent e : events) {
        if (e instanceof DispatchEvent.Failover f && job.id().equals(f.jobId())) {
          why.add(f.kind() + " in " + f.offer().providerId() + "/" + f.offer().zone());
          byKind.merge(f.kind(), 1, Integer::sum);
        } else if (e instanceof DispatchEvent.AttemptEnded a && job.id().equals(a.jobId())
            && (a.outcome() == AttemptOutcome.PREEMPTED || a.outcome() == AttemptOutcome.LOST)) {
          why.add(a.outcome().name().toLowerCase(java.util.Locale.ROOT) + " in " + a.offer().providerId() + "/" + a.offer().zone());
          byKind.merge(a.outcome().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
        }
      }
      String where = last.map(a -> a.offer().key()).orElse("-");
      String tier = last.map(a -> a.spot() ? "spot" : "on-demand").orElse("-");
      out.printf(fmt, job.spec().name(), job.spec().tenant(), tier, job.state(), where, tries.size(),
          why.isEmpty() ? "-" : String.join("; ", why), dollars(job.cost()));
      attempts += tries.size();
      succeeded += job.state() == JobState.SUCCEEDED ? 1 : 0;
      total = total.plus(job.cost());
      byTenant.merge(job.spec().tenant(), job.cost(), Money::plus);
    }
    out.println();
    out.printf("Totals: %d/%d jobs succeeded, %d attempts, %s; cost %s (%s)%n", succeeded, jobs.size(), attempts,
        byKind.isEmpty() ? "no failovers" : byKind.entrySet().stream().map(e -> e.getValue() + " " + e.getKey())
            .reduce((a, b) -> a + ", " + b).orElse(""),
        dollars(total),
        byTenant.entrySet().stream().map(e -> e.getKey() + " " + dollars(e.getValue()))
            .reduce((a, b) -> a + ", " + b).orElse(""));
    out.println("(Costs are list prices times the seconds each machine was held; the emulated jobs run for seconds.)");
  }

  private static void printLocalOutput(PrintStream out, JobHandle job) {
    JobResult r = job.result().getNow(null);
    String stdout = r == null ? null : r.attributes().get(LocalProvider.ATTR_STDOUT);
    if (stdout != null && Files.exists(Path.of(stdout))) {
      try {
        out.printf("%nThe local job wrote: %s%n", Files.readString(Path.of(stdout), StandardCharsets.UTF_8).strip());
      } catch (IOException e) {
        out.printf("%nThe local job's output could not be read: %s%n", e.getMessage());
      }
    }
  }

  static String dollars(Money m) {
    return "$" + m.amount().setScale(4, java.math.RoundingMode.HALF_UP).toPlainString();
  }

  private static boolean awaitNoResources(EmulatedClouds clouds) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (clouds.liveResources() > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind is harmless
    }
  }
}
