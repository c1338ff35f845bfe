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
 * and admitted (they stay queued: their tenant's device quota is 0), once with one spec shared by
 * every job and once with a distinct spec per job (its own name, label and env value, as real
 * submissions have). Not a JMH benchmark, since it measures space; run with {@code java -cp
 * bench/target/benchmarks.jar dev.acceldispatch.bench.jmh.HeapPerQueuedJob [jobs]}.
 */
public final class HeapPerQueuedJob {
  private HeapPerQueuedJob() {}

  /** Prints bytes per queued job. */
  public static void main(String[] args) {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    System.out.printf("heap per queued job, one shared spec: %.0f bytes (%d jobs, in-memory store, used heap after System.gc())%n",
        measure(jobs, false), jobs);
    System.out.printf("heap per queued job, a distinct spec per job: %.0f bytes (%d jobs, in-memory store, used heap after"
        + " System.gc(); the specs themselves included)%n", measure(jobs, true), jobs);
  }

  /** Bytes per queued job; {@code distinct}: each job its own spec, built before the first measurement. */
  public static double measure(int jobs, boolean distinct) {
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
      JobSpec shared = JobSpec.builder("backlog").script("true").accelerators(shape).tenant("backlog").build();
      long before = usedAfterGc();
      for (int i = 0; i < jobs; i++) {
        d.submit(distinct ? JobSpec.builder("backlog-" + i).script("python train.py --shard " + i).accelerators(shape)
            .tenant("backlog").label("run", "r" + i).env("SHARD", Integer.toString(i)).build() : shared);
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
