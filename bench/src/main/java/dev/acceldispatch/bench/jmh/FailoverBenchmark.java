package dev.acceldispatch.bench.jmh;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.spi.PlacementPolicy;
import dev.acceldispatch.testkit.ManualScheduler;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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

/**
 * Time from a capacity error to the next provision call, with 10 or 10^3 offers and none or 10^4
 * jobs queued (blocked by their tenant's quota). The cheapest offer (ranked by
 * {@code PlacementPolicy.CHEAPEST}) always
 * answers "no capacity"; each operation submits a job, which the engine places there, fails over
 * from, and provisions on the next offer, all inline in virtual time. The provider records, in
 * wall nanoseconds, the gap between throwing the capacity error and receiving the next create;
 * its p50/p99 are printed at the end of each iteration. The capacity block is 1 ms of virtual
 * time, and each operation moves the clock 1 ms, so every job meets the error afresh.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class FailoverBenchmark {
  /** Offers of the job's shape (the cheapest always refuses). */
  @Param({"10", "1000"})
  public int offers;

  /** Jobs queued behind their tenant's zero device quota, which every pass looks at. */
  @Param({"0", "10000"})
  public int queued;

  private ManualScheduler scheduler;
  private Dispatcher dispatcher;
  private JobSpec job;
  private InstantProvider provider;
  private long[] gaps = new long[1 << 20];
  private int n;

  /** Builds the engine. */
  @Setup(Level.Trial)
  public void setUp() {
    scheduler = new ManualScheduler();
    var shape = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);
    provider = new InstantProvider(InstantProvider.offers(offers, shape), o -> o.zone().equals("r0-z0"));
    provider.afterRefusal = nanos -> {
      if (n < gaps.length) {
        gaps[n++] = nanos;
      }
    };
    dispatcher = Dispatcher.builder()
        .scheduler(scheduler)
        .providerExecutor(Runnable::run)
        .provider(provider)
        // CHEAPEST: BALANCED would learn to avoid the failing offer after the first error.
        .placementPolicy(PlacementPolicy.CHEAPEST)
        .capacityBlock(Duration.ofMillis(1))
        .pollInterval(Duration.ofMillis(1), Duration.ofMillis(1))
        .reconcileInterval(Duration.ofDays(365))
        .tenant("backlog", TenantQuota.UNLIMITED.withMaxConcurrentDevices(0))
        .build();
    JobSpec backlog = JobSpec.builder("backlog").script("true").accelerators(shape).tenant("backlog")
        .referenceRunTime(shape, Duration.ofHours(1)).build();
    for (int i = 0; i < queued; i++) {
      dispatcher.submit(backlog);
    }
    scheduler.runDue();
    job = JobSpec.builder("j").script("true").accelerators(shape).referenceRunTime(shape, Duration.ofHours(1)).build();
  }

  /** Prints the gap percentiles of the iteration. */
  @TearDown(Level.Iteration)
  public void report() {
    long[] g = Arrays.copyOf(gaps, n);
    Arrays.sort(g);
    if (g.length > 0) {
      System.out.printf("%n[failover] capacity error -> next provision call: n=%d p50=%.2f us p99=%.2f us%n",
          g.length, g[g.length / 2] / 1000.0, g[(int) Math.min(g.length - 1, Math.round(g.length * 0.99))] / 1000.0);
    }
    n = 0;
  }

  /** Closes the engine. */
  @TearDown(Level.Trial)
  public void tearDown() {
    dispatcher.close();
    scheduler.runDue();
  }

  /** One job: capacity error on the first offer, provisioned on the second. */
  @Benchmark
  public JobHandle failOverOnce() {
    JobHandle h = dispatcher.submit(job);
    scheduler.advance(Duration.ofMillis(1));
    return h;
  }
}
