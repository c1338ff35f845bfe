package dev.acceldispatch.bench.jmh;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.testkit.ManualScheduler;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;

/**
 * Heap bytes per queued job: used heap after a full GC, before and after 10^5 jobs are submitted
 * and admitted (they stay queued: their tenant's device quota is 0). Not a JMH benchmark, since
 * it measures space; run with {@code java -cp bench/target/benchmarks.jar
 * dev.acceldispatch.bench.jmh.HeapPerQueuedJob [jobs]}.
 */
public final class HeapPerQueuedJob {
  private HeapPerQueuedJob() {}

  /** Prints bytes per queued job. */
  public static void main(String[] args) {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    System.out.printf("heap per queued job: %.0f bytes (%d jobs, in-memory store, used heap after System.gc())%n",
        measure(jobs), jobs);
  }

  /** Bytes per queued job. */
  public static double measure(int jobs) {
    ManualScheduler scheduler = new ManualScheduler();
    var shape = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);
    try (Dispatcher d = Dispatcher.builder()
        .scheduler(scheduler)
        .providerExecutor(Runnable::run)
        .provider(new InstantProvider(InstantProvider.offers(1000, shape), o -> false))
        .tenant("backlog", TenantQuota.UNLIMITED.withMaxConcurrentDevices(0))
        .reconcileInterval(Duration.ofDays(365))
        .build()) {
      scheduler.runDue();
      JobSpec spec = JobSpec.builder("backlog").script("true").accelerators(shape).tenant("backlog").build();
      long before = usedAfterGc();
      for (int i = 0; i < jobs; i++) {
        d.submit(spec);
      }
      scheduler.runDue();
      long after = usedAfterGc();
      return (after - before) / (double) jobs;
    } finally {
      scheduler.runDue();
    }
  }

  private static long usedAfterGc() {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return mem.getHeapMemoryUsage().getUsed();
  }
}
