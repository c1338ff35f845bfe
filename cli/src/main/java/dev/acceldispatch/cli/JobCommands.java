package dev.acceldispatch.cli;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Plan;
import dev.acceldispatch.PlannedOffer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.Provider;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The commands that run jobs: {@code run}, {@code submit}, {@code serve}, {@code plan}, {@code schema}. */
final class JobCommands {
  private JobCommands() {}

  /** A dispatcher on the configured store and providers. */
  static Dispatcher dispatcher(CliConfig cfg, JobStore store, List<Provider> providers, DispatchListener listener) {
    Dispatcher.Builder b = Dispatcher.builder().store(store).fleetId(cfg.fleetId())
        .leaseDuration(cfg.leaseDuration())
        .pollInterval(Duration.ofMillis(Math.min(200, cfg.pollInterval().toMillis())), cfg.pollInterval())
        .listener(listener);
    providers.forEach(b::provider);
    return b.build();
  }

  static Map<String, Provider> byId(List<Provider> providers) {
    Map<String, Provider> m = new LinkedHashMap<>();
    providers.forEach(p -> m.put(p.id(), p));
    return m;
  }

  /** Progress lines for people, on standard error. Fast and never throws, as listeners must be. */
  static DispatchListener progress(Cli cli, String onlyJob) {
    return e -> {
      String job = jobOf(e);
      if (onlyJob != null && !onlyJob.equals(job)) {
        return;
      }
      String line = null;
      if (e instanceof DispatchEvent.JobStateChanged s) {
        line = s.to() + (s.reason() == null || s.reason().isEmpty() ? "" : ": " + s.reason());
      } else if (e instanceof DispatchEvent.AttemptStarted a) {
        line = "attempt " + a.attempt() + " on " + Render.where(a.offer()) + (a.spot() ? " (spot)" : "");
      } else if (e instanceof DispatchEvent.AttemptEnded a) {
        line = "attempt " + a.attempt() + " ended " + a.outcome() + " (" + Render.money(a.cost()) + ")"
            + (a.detail().isEmpty() ? "" : ": " + a.detail());
      } else if (e instanceof DispatchEvent.Failover f) {
        line = "failover from " + Render.where(f.offer()) + ": " + f.kind() + ": " + f.message();
      }
      if (line != null) {
        cli.err().println("[" + Render.time(e.at()) + "] " + (onlyJob == null ? job + " " : "") + line);
        cli.err().flush();
      }
    };
  }

  private static String jobOf(DispatchEvent e) {
    if (e instanceof DispatchEvent.JobStateChanged s) {
      return s.jobId();
    } else if (e instanceof DispatchEvent.AttemptStarted a) {
      return a.jobId();
    } else if (e instanceof DispatchEvent.AttemptEnded a) {
      return a.jobId();
    } else if (e instanceof DispatchEvent.Failover f) {
      return f.jobId();
    }
    return null;
  }

  /** A command that reads a job file: the tool's context, the common options and the file. */
  abstract static class WithJobFile {
    final Cli cli;
    @Mixin CommonOptions common;
    @Parameters(paramLabel = "FILE", description = "The job file (YAML).") Path file;

    WithJobFile(Cli cli) {
      this.cli = cli;
    }

    JobSpec job() {
      return JobFile.read(file, cli.env());
    }

    CliConfig config() {
      return common.load(cli);
    }
  }

  /** What {@code run} exits with for a job's result. */
  static int exitCodeOf(JobResult r) {
    return switch (r.state()) {
      case SUCCEEDED -> ExitCodes.OK;
      case CANCELLED -> ExitCodes.CANCELLED;
      default -> r.exitCode() != null && r.exitCode() > 0 && r.exitCode() < 256 ? r.exitCode() : ExitCodes.FAILED_WITHOUT_EXIT_CODE;
    };
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = {"Submits the job in FILE, shows its progress and output until it ends, and exits with its outcome:",
          "0 succeeded, the workload's exit code if it failed, 130 cancelled, 69 failed without an exit code.",
          "Ctrl-C cancels the job. While it runs, this process also carries on other unfinished jobs of the store, as serve does."})
  static final class Run extends WithJobFile implements Callable<Integer> {
    @Option(names = {"-q", "--quiet"}, description = "Do not show the workload's output.") boolean quiet;

    Run(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() throws Exception {
      JobSpec spec = job();
      CliConfig cfg = config();
      try (CliConfig.OpenStore os = cfg.openStore()) {
        List<Provider> providers = cfg.providers();
        String[] id = {null};
        Dispatcher d = dispatcher(cfg, os.store(), providers, e -> {
          if (id[0] != null) {
            progress(cli, id[0]).onEvent(e);
          }
        });
        try {
          JobHandle job = d.submit(spec);
          id[0] = job.id();
          cli.err().println("submitted " + job.id() + " (" + spec.name() + ")");
          cli.err().flush();
          CountDownLatch done = new CountDownLatch(1);
          Thread cancelOnInterrupt = new Thread(() -> {
            if (!job.result().isDone()) {
              cli.err().println("cancelling " + job.id());
              cli.err().flush();
              job.cancel();
              try {
                done.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }, "accel-dispatch-cancel-on-exit");
          Runtime.getRuntime().addShutdownHook(cancelOnInterrupt);
          try {
            if (!quiet) {
              new LogFollower(os.store(), byId(providers), cli.out(), cli.err(), Duration.ofMillis(200)).print(job.id(), null, true);
            }
            JobResult r = job.result().join();
            cli.err().println(r.state() + " " + job.id() + " after " + r.attempts().size() + " attempt(s), cost " + Render.money(r.cost())
                + (r.exitCode() == null ? "" : ", exit code " + r.exitCode()) + (r.message().isEmpty() ? "" : ": " + r.message()));
            cli.err().flush();
            return exitCodeOf(r);
          } finally {
            done.countDown();
            try {
              Runtime.getRuntime().removeShutdownHook(cancelOnInterrupt);
            } catch (IllegalStateException shuttingDown) {
              // the hook is running: it cancels the job
            }
          }
        } finally {
          d.close();
        }
      }
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = {"Stores the job in FILE as queued and prints its id; a dispatcher on the same store (serve, or a service) runs it.",
          "Returns at once."})
  static final class Submit extends WithJobFile implements Callable<Integer> {
    private static final SecureRandom RANDOM = new SecureRandom();

    Submit(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() {
      JobSpec spec = job();
      CliConfig cfg = config();
      try (CliConfig.OpenStore os = cfg.openStore()) {
        Instant now = cli.clock().instant();
        for (int tries = 0; ; tries++) {
          String id = newJobId();
          try {
            // Not leased: the first dispatcher whose heartbeat looks leases it, as it would a job
            // whose owner died.
            os.store().insert(new JobRecord(id, spec, JobState.QUEUED, 0, now, now, List.of(), 0, "queued (submitted by accel-dispatch submit)", null, Map.of()));
            cli.out().println(id);
            return ExitCodes.OK;
          } catch (IllegalStateException duplicate) {
            if (tries > 5) {
              throw duplicate;
            }
          }
        }
      }
    }

    /** The same form as the engine's ids: {@code j} and 12 of [a-z0-9]. */
    private static String newJobId() {
      String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
      StringBuilder sb = new StringBuilder("j");
      for (int i = 0; i < 12; i++) {
        sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
      }
      return sb.toString();
    }
  }

  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = {"Runs a dispatcher on the configured store and providers until stopped (Ctrl-C or SIGTERM).",
          "Several may share a PostgreSQL store: each job is leased to one of them. Jobs left running when it stops",
          "are picked up by the next dispatcher on the store."})
  static final class Serve implements Callable<Integer> {
    private final Cli cli;
    @Mixin CommonOptions common;

    Serve(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() throws InterruptedException {
      CliConfig cfg = common.load(cli);
      CountDownLatch stop = new CountDownLatch(1);
      CountDownLatch stopped = new CountDownLatch(1);
      Thread hook = new Thread(() -> {
        stop.countDown();
        try {
          stopped.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "accel-dispatch-serve-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      try (CliConfig.OpenStore os = cfg.openStore()) {
        List<Provider> providers = cfg.providers();
        Dispatcher d = dispatcher(cfg, os.store(), providers, progress(cli, null));
        try {
          cli.err().println("serving fleet '" + cfg.fleetId() + "' on " + os.store() + " with providers "
              + byId(providers).keySet() + " (configuration: " + cfg.source() + ")");
          cli.err().flush();
          stop.await();
          cli.err().println("stopping; running jobs stay in the store for the next dispatcher");
          cli.err().flush();
        } finally {
          d.close();
        }
      } finally {
        stopped.countDown();
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "plan", mixinStandardHelpOptions = true,
      description = "Ranks the offers the configured providers have for the job in FILE: estimated cost, time to start and the reason for each. Runs nothing.")
  static final class PlanJob extends WithJobFile implements Callable<Integer> {

    PlanJob(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() {
      JobSpec spec = job();
      CliConfig cfg = config();
      // A private in-memory store and fleet: planning must neither lease the shared store's jobs nor
      // take the fleet's running attempts for orphans.
      CliConfig planning = cfg.withFleetId("plan-" + Long.toString(System.nanoTime() & 0xffffff, 36));
      try (Dispatcher d = dispatcher(planning, new InMemoryJobStore(), cfg.providers(), e -> { })) {
        Plan plan = d.plan(spec);
        List<List<String>> rows = new ArrayList<>();
        for (PlannedOffer p : plan.ranked()) {
          rows.add(List.of(Integer.toString(p.rank()), Render.where(p.offer()), p.spot() ? "spot" : "on-demand",
              Render.money(p.estimatedCost()), DurationText.format(p.expectedTimeToStart().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)),
              DurationText.format(p.estimatedRunTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)), p.reason()));
        }
        cli.out().print(Render.table(List.of("RANK", "OFFER", "TIER", "EST. COST", "START IN", "RUN TIME", "WHY"), rows));
        if (!plan.excluded().isEmpty()) {
          cli.out().println();
          cli.out().println("not usable now:");
          plan.excluded().forEach(x -> cli.out().println("  " + x));
        }
        cli.out().flush();
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "schema", mixinStandardHelpOptions = true,
      description = "Prints the JSON Schema of the job file, for editors (yaml-language-server and others).")
  static final class Schema implements Callable<Integer> {
    private final Cli cli;

    Schema(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      cli.out().print(JobFile.schema());
      cli.out().flush();
      return ExitCodes.OK;
    }
  }
}
