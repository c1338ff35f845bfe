package dev.acceldispatch.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.VirtualCloud;
import dev.acceldispatch.testkit.VirtualCloudExtension;
import dev.acceldispatch.testkit.cloud.CloudModel;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VirtualCloudExtension.class)
class DispatchMetricsTest {
  private static final String P = "accel.dispatch.";

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static FakeProvider threeZones(VirtualCloud vc) {
    return vc.provider("fake-tpu")
        .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
        .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00)
        .offer("europe-west4", "europe-west4-b", Shapes.tpuV5e(8), "v5litepod-8", 12.48, 4.10)
        .build();
  }

  private static JobSpec spec(String name, String tenant, SpotPolicy spot) {
    return JobSpec.builder(name).script("python train.py").accelerators(Shapes.tpuV5e(8)).spot(spot).tenant(tenant).build();
  }

  @Test
  void onEvent_stockoutThenPreemption_countsFailoverPreemptionAttemptsAndCost(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofMinutes(30), 0).stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(3));
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build();
    Dispatcher dispatcher = vc.dispatcher(b -> b.listener(metrics), threeZones(vc));

    JobHandle job = dispatcher.submit(spec("sweep", "research", SpotPolicy.ONLY));
    vc.advance(Duration.ofMinutes(5));
    assertThat(job.state()).isEqualTo(JobState.RUNNING);
    Attempt running = job.attempts().get(job.attempts().size() - 1);
    assertThat(vc.cloud().preempt(running.resourceName())).isTrue();
    vc.advance(Duration.ofHours(2));

    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(registry.get(P + "jobs.submitted").tag("tenant", "research").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "failovers").tags("reason", "capacity", "zone", "us-west4-a", "provider", "fake-tpu")
        .counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "attempts.ended").tag("outcome", "capacity").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "attempts.ended").tag("outcome", "preempted").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "attempts.ended").tag("outcome", "succeeded").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "preemptions").tag("outcome", "preempted").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "attempts.started").counters()).allSatisfy(c -> assertThat(c.getId().getTag("tier")).isEqualTo("spot"));
    assertThat(registry.get(P + "attempts.started").counters().stream().mapToDouble(c -> c.count()).sum()).isEqualTo(3);
    assertThat(registry.get(P + "jobs.ended").tags("tenant", "research", "state", "succeeded").counter().count()).isEqualTo(1);
    double cost = registry.get(P + "cost").tags("tenant", "research", "tier", "spot").counters().stream()
        .mapToDouble(c -> c.count()).sum();
    assertThat(cost).isCloseTo(job.cost().toDouble(), offset(1e-6)).isPositive();
    assertThat(registry.get(P + "attempts.duration").timers().stream().mapToLong(t -> t.count()).sum()).isEqualTo(3);
    assertThat(metrics.trackedJobs()).isZero();
  }

  @Test
  void jobsActive_twoTenantsOneQuotaBound_followsQueuedAndRunningPerTenant(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofHours(1), 0);
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build();
    Dispatcher dispatcher = vc.dispatcher(
        b -> b.listener(metrics).tenant("research", TenantQuota.UNLIMITED.withMaxConcurrentDevices(8)), threeZones(vc));

    dispatcher.submit(spec("a", "research", SpotPolicy.NEVER));
    dispatcher.submit(spec("b", "research", SpotPolicy.NEVER));
    dispatcher.submit(spec("c", "prod", SpotPolicy.NEVER));
    vc.advance(Duration.ofMinutes(10));

    assertThat(active("research", "running")).isEqualTo(1);
    assertThat(active("research", "queued")).isEqualTo(1);
    assertThat(active("prod", "running")).isEqualTo(1);
    assertThat(active("prod", "queued")).isZero();

    vc.advance(Duration.ofHours(3));

    assertThat(active("research", "running")).isZero();
    assertThat(active("research", "queued")).isZero();
    assertThat(active("prod", "running")).isZero();
    assertThat(registry.get(P + "jobs.ended").tags("tenant", "research").counter().count()).isEqualTo(2);
    assertThat(metrics.trackedJobs()).isZero();
  }

  @Test
  void timers_virtualTime_recordTimeToStartAndRunTimeFromEventTimes(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofMinutes(30), 0).setProvisioningTime(Duration.ofMinutes(2));
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build();
    Dispatcher dispatcher = vc.dispatcher(b -> b.listener(metrics), threeZones(vc));

    dispatcher.submit(spec("train", "research", SpotPolicy.NEVER));
    vc.advance(Duration.ofHours(1));

    double toStart = registry.get(P + "jobs.time.to.start").tags("tenant", "research", "provider", "fake-tpu")
        .timer().totalTime(TimeUnit.SECONDS);
    assertThat(toStart).isBetween(120.0, 180.0);
    double ran = registry.get(P + "jobs.run.time").tags("provider", "fake-tpu", "end", "succeeded")
        .timer().totalTime(TimeUnit.SECONDS);
    // The workload runs 30 virtual minutes; the engine sees its end at its next status poll.
    assertThat(ran).isBetween(1800.0 - 120.0, 1800.0 + 60.0);
  }

  @Test
  void offersBlocked_afterStockout_countsTheBlockUntilItExpires(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofMinutes(5), 0).stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(3));
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build();
    Dispatcher dispatcher = vc.dispatcher(b -> b.listener(metrics).capacityBlock(Duration.ofMinutes(10)), threeZones(vc));

    dispatcher.submit(spec("probe", "research", SpotPolicy.ONLY));
    vc.advance(Duration.ofMinutes(1));

    assertThat(registry.get(P + "offers.blocks").tags("provider", "fake-tpu", "zone", "us-west4-a", "reason", "capacity")
        .counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "offers.blocked").tag("provider", "fake-tpu").gauge().value()).isEqualTo(1);

    vc.advance(Duration.ofMinutes(15));

    assertThat(registry.get(P + "offers.blocked").tag("provider", "fake-tpu").gauge().value()).isZero();
  }

  @Test
  void instrument_stockoutAndSlowApi_timesEachCallWithItsErrorKind(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofMinutes(5), 0).stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(3));
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).tags(Tags.of("fleet", "f1")).build();
    SlowProvider slow = new SlowProvider(threeZones(vc), vc.scheduler().manualClock(), Duration.ofMillis(250));
    Dispatcher dispatcher = vc.dispatcher(b -> b.listener(metrics), metrics.instrument(slow));

    JobHandle job = dispatcher.submit(spec("probe", "research", SpotPolicy.ONLY));
    vc.advance(Duration.ofHours(1));

    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    var failed = registry.get(P + "provider.calls")
        .tags("fleet", "f1", "provider", "fake-tpu", "call", "provision", "outcome", "error", "error", "capacity").timer();
    assertThat(failed.count()).isEqualTo(1);
    assertThat(failed.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250);
    var provisioned = registry.get(P + "provider.calls")
        .tags("provider", "fake-tpu", "call", "provision", "outcome", "success", "error", "none").timer();
    assertThat(provisioned.count()).isEqualTo(1);
    assertThat(registry.get(P + "provider.calls").tags("call", "status", "outcome", "success").timer().count()).isPositive();
    assertThat(registry.get(P + "provider.calls").tags("call", "release", "outcome", "success").timer().count()).isPositive();
  }

  @Test
  void bindTo_liveAttempt_gaugesTenantDevicesAndSpendRate(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofHours(2), 0);
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build();
    Dispatcher dispatcher = vc.dispatcher(b -> b.listener(metrics), threeZones(vc));
    metrics.bindTo(dispatcher);

    dispatcher.submit(spec("train", "research", SpotPolicy.NEVER));
    vc.advance(Duration.ofMinutes(10));

    assertThat(registry.get(P + "tenant.devices").tag("tenant", "research").gauge().value()).isEqualTo(8);
    assertThat(registry.get(P + "tenant.spend.rate").tag("tenant", "research").gauge().value())
        .isEqualTo(dispatcher.usage("research").hourlySpend().toDouble()).isPositive();
  }

  @Test
  void onEvent_jobSubmittedBeforeTheListener_takesTenantFromTheBoundDispatcher(VirtualCloud vc) {
    vc.cloud().setDefaultWorkload(Duration.ofMinutes(30), 0);
    Dispatcher dispatcher = vc.dispatcher(threeZones(vc));
    JobHandle job = dispatcher.submit(spec("train", "research", SpotPolicy.NEVER));
    vc.advance(Duration.ofMinutes(10));
    assertThat(job.state()).isEqualTo(JobState.RUNNING);

    // As after a restart on a durable store: the submission happened before these metrics existed.
    DispatchMetrics metrics = DispatchMetrics.builder(registry).clock(vc.scheduler().clock()).build().bindTo(dispatcher);
    dispatcher.addListener(metrics);
    vc.advance(Duration.ofHours(1));

    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(registry.get(P + "jobs.ended").tags("tenant", "research", "state", "succeeded").counter().count()).isEqualTo(1);
    assertThat(registry.get(P + "cost").tag("tenant", "research").counter().count()).isPositive();
    assertThat(metrics.trackedJobs()).isZero();
  }

  private double active(String tenant, String state) {
    var gauge = registry.find(P + "jobs.active").tags("tenant", tenant, "state", state).gauge();
    return gauge == null ? 0 : gauge.value();
  }
}
