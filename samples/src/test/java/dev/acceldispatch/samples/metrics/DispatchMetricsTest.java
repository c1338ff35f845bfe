package dev.acceldispatch.samples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DispatchMetricsTest {

  @Test
  void onEvent_stockoutThenPreemption_countsFailoverPreemptionPlacementsAndCost() {
    ManualScheduler scheduler = new ManualScheduler();
    CloudModel cloud = CloudModel.create(scheduler.manualClock(), 3)
        .setDefaultWorkload(Duration.ofMinutes(30), 0)
        .stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(3));
    FakeProvider tpu = FakeProvider.builder("fake-tpu", cloud)
        .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
        .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00)
        .offer("europe-west4", "europe-west4-b", Shapes.tpuV5e(8), "v5litepod-8", 12.48, 4.10)
        .build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Dispatcher dispatcher = Dispatcher.builder().provider(tpu).scheduler(scheduler)
        .providerExecutor(Runnable::run).listener(new DispatchMetrics(registry)).build();
    try {
      JobHandle job = dispatcher.submit(JobSpec.builder("sweep").script("python sweep.py")
          .accelerators(Shapes.tpuV5e(8)).spot(SpotPolicy.ONLY).tenant("research").build());
      scheduler.advance(Duration.ofMinutes(5));
      assertThat(job.state()).isEqualTo(JobState.RUNNING);
      Attempt running = job.attempts().get(job.attempts().size() - 1);
      assertThat(cloud.preempt(running.resourceName())).isTrue();

      scheduler.advance(Duration.ofHours(2));

      assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    } finally {
      dispatcher.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
    String p = "accel.dispatch.";
    assertThat(registry.get(p + "jobs.submitted").tag("tenant", "research").counter().count()).isEqualTo(1);
    assertThat(registry.get(p + "failovers").tag("reason", "capacity").tag("zone", "us-west4-a").counter().count())
        .isEqualTo(1);
    assertThat(registry.get(p + "preemptions").tag("outcome", "preempted").counter().count()).isEqualTo(1);
    assertThat(registry.get(p + "placements").counters().stream().mapToDouble(c -> c.count()).sum()).isEqualTo(3);
    assertThat(registry.get(p + "jobs.ended").tag("state", "succeeded").counter().count()).isEqualTo(1);
    assertThat(registry.get(p + "cost.usd").tag("tier", "spot").counter().count()).isPositive();
    assertThat(registry.get(p + "attempt.duration").timers().stream().mapToLong(t -> t.count()).sum()).isEqualTo(3);
    assertThat(registry.get(p + "time.to.start").tag("provider", "fake-tpu").timer().totalTime(TimeUnit.SECONDS))
        .isPositive();
  }
}
