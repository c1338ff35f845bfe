package dev.acceldispatch.bench.jmh;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.scheduling.JobScheduler;
import org.jobrunr.server.BackgroundJobServerConfiguration;
import org.jobrunr.storage.InMemoryStorageProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobExecutionContext;
import org.quartz.Scheduler;
import org.quartz.TriggerBuilder;
import org.quartz.impl.StdSchedulerFactory;

/**
 * {@code jobs} no-op jobs submitted and completed, real time, 16 worker threads each: our
 * dispatcher (default real-time scheduler, zero-latency in-process provider, status polled every
 * 1 ms), Quartz 2.5 (RAMJobStore, 16 threads, one trigger "now" per job) and JobRunr 7.5
 * (InMemoryStorageProvider, 16 workers, its shortest allowed poll interval of 5 s). One operation
 * = submit them all and wait until every one has finished; the score is seconds per operation, so
 * jobs per second = jobs / score. Each system is built once per fork and shut down after.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(1)
public class NoOpThroughputBenchmark {
  @Param({"2000"})
  public int jobs;

  /** Our dispatcher. */
  @State(Scope.Benchmark)
  public static class Ours {
    Dispatcher dispatcher;
    JobSpec spec;

    /** Builds it. */
    @Setup(Level.Trial)
    public void setUp() {
      var shape = Shapes.gpu(AcceleratorType.NVIDIA_L4, 1);
      dispatcher = Dispatcher.builder()
          .provider(new InstantProvider(InstantProvider.offers(1, shape), o -> false))
          .pollInterval(Duration.ofMillis(1), Duration.ofMillis(1))
          .build();
      spec = JobSpec.builder("noop").script("true").accelerators(shape).build();
    }

    /** Closes it. */
    @TearDown(Level.Trial)
    public void tearDown() {
      dispatcher.close();
    }
  }

  /** Quartz with RAMJobStore. */
  @State(Scope.Benchmark)
  public static class QuartzState {
    Scheduler scheduler;
    final AtomicLong ids = new AtomicLong();

    /** Starts it. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
      Properties p = new Properties();
      p.setProperty("org.quartz.scheduler.instanceName", "bench");
      p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
      p.setProperty("org.quartz.threadPool.threadCount", "16");
      p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
      scheduler = new StdSchedulerFactory(p).getScheduler();
      scheduler.start();
    }

    /** Stops it. */
    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
      scheduler.shutdown(true);
    }
  }

  /** JobRunr with in-memory storage. */
  @State(Scope.Benchmark)
  public static class JobRunrState {
    JobScheduler scheduler;

    /** Starts it. */
    @Setup(Level.Trial)
    public void setUp() {
      scheduler = JobRunr.configure()
          .useStorageProvider(new InMemoryStorageProvider())
          .useBackgroundJobServer(BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration()
              .andPollIntervalInSeconds(5).andWorkerCount(16))
          .initialize()
          .getJobScheduler();
    }

    /** Stops it (JobRunr's configuration is global). */
    @TearDown(Level.Trial)
    public void tearDown() {
      JobRunr.destroy();
    }
  }

  /** Counts no-op jobs done, for Quartz and JobRunr. */
  public static final class Done {
    static volatile CountDownLatch latch = new CountDownLatch(0);

    private Done() {}

    /** The no-op job body. */
    public static void run() {
      latch.countDown();
    }
  }

  /** Quartz's job class: does nothing but count. */
  public static final class QuartzNoOp implements Job {
    @Override
    public void execute(JobExecutionContext context) {
      Done.run();
    }
  }

  /** Our dispatcher: submit, then wait for every result. */
  @Benchmark
  public int ours(Ours s) {
    List<CompletableFuture<?>> all = new ArrayList<>(jobs);
    for (int i = 0; i < jobs; i++) {
      all.add(s.dispatcher.submit(s.spec).result());
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    return all.size();
  }

  /** Quartz: schedule a job with an immediate trigger each, wait for every execution. */
  @Benchmark
  public long quartz(QuartzState s) throws Exception {
    CountDownLatch latch = new CountDownLatch(jobs);
    Done.latch = latch;
    for (int i = 0; i < jobs; i++) {
      long id = s.ids.incrementAndGet();
      s.scheduler.scheduleJob(
          JobBuilder.newJob(QuartzNoOp.class).withIdentity("j" + id).build(),
          TriggerBuilder.newTrigger().withIdentity("t" + id).startNow().build());
    }
    if (!latch.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("quartz did not finish " + latch.getCount() + " jobs");
    }
    return latch.getCount();
  }

  /** JobRunr: enqueue each, wait for every execution. */
  @Benchmark
  public long jobrunr(JobRunrState s) throws Exception {
    CountDownLatch latch = new CountDownLatch(jobs);
    Done.latch = latch;
    for (int i = 0; i < jobs; i++) {
      s.scheduler.enqueue(() -> Done.run());
    }
    if (!latch.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("jobrunr did not finish " + latch.getCount() + " jobs");
    }
    return latch.getCount();
  }
}
