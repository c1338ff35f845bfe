package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.micrometer.DispatchMetrics;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's metrics snippet, run: the accel-dispatch-micrometer module wired to a dispatcher. */
class MetricsSampleTest {

  @Test
  void dispatchMetrics_stockoutInFirstZone_countsTheFailoverAndTheCost() {
    ManualScheduler scheduler = new ManualScheduler();
    CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7)
        .setDefaultWorkload(Duration.ofMinutes(20), 0)
        .stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(1));
    FakeProvider tpu = FakeProvider.builder("fake-tpu", cloud)
        .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
        .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00)
        .build();
    MeterRegistry registry = new SimpleMeterRegistry();

    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(scheduler.clock()).build();
    Dispatcher dispatcher = Dispatcher.builder().provider(metrics.instrument(tpu)).listener(metrics)
        .scheduler(scheduler).providerExecutor(Runnable::run).build();
    metrics.bindTo(dispatcher);

    try {
      JobHandle job = dispatcher.submit(JobSpec.builder("eval").script("python eval.py")
          .accelerators(Shapes.tpuV5e(8)).spot(SpotPolicy.ONLY).tenant("research").build());
      scheduler.advance(Duration.ofHours(1));

      assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(registry.get("accel.dispatch.failovers").tag("reason", "capacity").counter().count()).isEqualTo(1);
      assertThat(registry.get("accel.dispatch.cost").tag("tenant", "research").counter().count())
          .isEqualTo(job.cost().toDouble());
    } finally {
      dispatcher.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
    assertThat(cloud.liveResources()).isZero();
  }
}
