package dev.acceldispatch.bench.jmh;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.testkit.ManualScheduler;
import java.time.Duration;
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
 * Placement decisions with a large queue: {@code queued} jobs wait (their tenant's device quota
 * is 0, so they stay queued), {@code offers} offers of the job's shape are wired on a
 * zero-latency provider, and each operation submits one job of another, higher-priority tenant
 * and runs the engine until it is placed and provisioned (virtual time, inline provider calls),
 * then moves the clock 1 ms so that the previous job's poll ends it. One operation = one placement
 * decision over every offer (plus one look at the head of the blocked backlog, which the engine's
 * pass does each time). Throughput = decisions per second; SampleTime gives p50/p99 latency.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx3g"})
public class PlacementBenchmark {
  @Param({"100000"})
  public int queued;

  @Param({"1000"})
  public int offers;

  private ManualScheduler scheduler;
  private Dispatcher dispatcher;
  private JobSpec hot;

  /** Builds the engine with its backlog. */
  @Setup(Level.Trial)
  public void setUp() {
    scheduler = new ManualScheduler();
    var shape = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);
    dispatcher = Dispatcher.builder()
        .scheduler(scheduler)
        .providerExecutor(Runnable::run)
        .provider(new InstantProvider(InstantProvider.offers(offers, shape), o -> false))
        .tenant("backlog", TenantQuota.UNLIMITED.withMaxConcurrentDevices(0))
        .pollInterval(Duration.ofMillis(1), Duration.ofMillis(1))
        .reconcileInterval(Duration.ofDays(365))
        .build();
    JobSpec backlog = JobSpec.builder("backlog").script("true").accelerators(shape).tenant("backlog")
        .referenceRunTime(shape, Duration.ofHours(1)).build();
    for (int i = 0; i < queued; i++) {
      dispatcher.submit(backlog);
    }
    scheduler.runDue();
    hot = JobSpec.builder("hot").script("true").accelerators(shape).tenant("hot").priority(1)
        .referenceRunTime(shape, Duration.ofHours(1)).build();
  }

  /** Closes the engine. */
  @TearDown(Level.Trial)
  public void tearDown() {
    dispatcher.close();
    scheduler.runDue();
  }

  /** Submits one job and runs the engine until it is placed and provisioned. */
  @Benchmark
  public JobHandle placeOneJob() {
    JobHandle h = dispatcher.submit(hot);
    scheduler.advance(Duration.ofMillis(1));
    return h;
  }
}
