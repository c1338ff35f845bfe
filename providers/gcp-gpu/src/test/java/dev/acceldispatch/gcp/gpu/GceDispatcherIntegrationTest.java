package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Plan;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real engine driving the real GCE GPU provider, through the real {@code InstancesClient} and
 * {@code ZoneOperationsClient}, against the GCE emulator, in real time (issue 4 at engine level):
 * rate limits are waited out without failing over, a stockout inside a DONE operation fails over,
 * a spot preemption requeues, and a GPUS_ALL_REGIONS quota blocks the whole provider.
 */
class GceDispatcherIntegrationTest {
  private static final AcceleratorShape L4 = Shapes.gpu(AcceleratorType.NVIDIA_L4, 1);
  private static final String L4_POOL = "nvidia-l4";
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration EVERY = Duration.ofMillis(50);

  private EmulatedGce gce;
  private GcpGpuProvider provider;
  private final RecordingListener events = new RecordingListener();
  private final List<Dispatcher> dispatchers = new ArrayList<>();

  @BeforeEach
  void start() {
    gce = new EmulatedGce();
    gce.model.setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofSeconds(1), 0);
    provider = gce.provider().callTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    dispatchers.forEach(Dispatcher::close);
    gce.close();
  }

  @AfterAll
  static void noDispatcherThreadLeft() {
    assertNoDispatcherThreadLeft();
  }

  /** What a dispatcher starts (its engine thread and provider pool) ends with close(). */
  private static void assertNoDispatcherThreadLeft() {
    Await.noThreadAlive("accel-dispatch-", Duration.ofSeconds(5));
  }

  private Dispatcher dispatcher(Provider... more) {
    Dispatcher.Builder b = Dispatcher.builder()
        .provider(provider)
        .listener(events)
        .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
        .shutdownTimeout(Duration.ofSeconds(10));
    for (Provider p : more) {
      b.provider(p);
    }
    Dispatcher d = b.build();
    dispatchers.add(d);
    return d;
  }

  private static JobSpec.Builder job(String name) {
    return JobSpec.builder(name)
        .container("us-docker.pkg.dev/integ/infer:2", "python", "serve.py", "--batch")
        .accelerators(L4)
        .referenceRunTime(L4, Duration.ofMinutes(10));
  }

  private static JobResult awaitResult(JobHandle job) {
    return Await.until("the end of job " + job.id(), PATIENCE, EVERY,
        () -> job.result().isDone() ? job.result().join() : null);
  }

  private static String other(String zone) {
    return zone.equals(EmulatedGce.ZONE) ? EmulatedGce.OTHER_ZONE : EmulatedGce.ZONE;
  }

  private static void assertCostsAddUp(JobResult r) {
    Money sum = Money.ZERO;
    for (Attempt a : r.attempts()) {
      Money expected = a.runningAt() == null
          ? Money.ZERO
          : a.hourlyPrice().perHourFor(Duration.between(a.runningAt(), a.endedAt()));
      assertThat(a.cost()).as("cost of attempt %d", a.number()).isEqualTo(expected);
      sum = sum.plus(a.cost());
    }
    assertThat(r.cost()).isEqualTo(sum);
  }

  private void assertRateLimitWaitedOutInTheSameZone(Dispatcher d, int throttledCalls) {
    JobSpec spec = job("throttled").build();
    String best = d.plan(spec).ranked().get(0).offer().zone();
    gce.model.injectFault("gce.insert", Fault.throttled(Duration.ofSeconds(1)), throttledCalls);

    JobResult r = awaitResult(d.submit(spec));

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).singleElement().satisfies(a -> {
      assertThat(a.offer().zone()).isEqualTo(best);
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    });
    List<CloudModel.Call> inserts = gce.model.calls("gce.insert");
    assertThat(inserts).hasSize(throttledCalls + 1);
    for (int i = 1; i < inserts.size(); i++) {
      assertThat(Duration.between(inserts.get(i - 1).at(), inserts.get(i).at()))
          .as("wait before insert %d", i + 1).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    }
    assertThat(inserts).extracting(CloudModel.Call::target).containsOnly(best);
    assertThat(events.events(DispatchEvent.Failover.class)).isEmpty();
    // The zone was not penalised: the next job is planned there first, with no capacity doubt.
    assertThat(d.plan(spec).ranked().get(0).offer().zone()).isEqualTo(best);
    assertThat(d.plan(spec).excluded()).isEmpty();
    assertCostsAddUp(r);
    assertThat(gce.model.liveResources()).isZero();
  }

  @Test
  void submit_rateLimitExceeded403WithRetryAfter_waitsAndLandsInTheSameZoneWithoutFailover() {
    assertRateLimitWaitedOutInTheSameZone(dispatcher(), 1);
  }

  @Test
  void submit_throttled429WithRetryAfter_waitsAndLandsInTheSameZoneWithoutFailover() {
    gce.emulator.throttleWith429(true);
    assertRateLimitWaitedOutInTheSameZone(dispatcher(), 2);
  }

  @Test
  void submit_stockoutInsideDoneOperation_failsOverToTheOtherZone() {
    Dispatcher d = dispatcher();
    JobSpec spec = job("stockout").build();
    String best = d.plan(spec).ranked().get(0).offer().zone();
    gce.model.stockout(best, L4_POOL, Duration.ofHours(1));

    JobResult r = awaitResult(d.submit(spec));

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly(best, other(best));
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
    assertThat(r.attempts().get(0).detail()).contains("ZONE_RESOURCE_POOL_EXHAUSTED");
    // The insert call itself was accepted: the stockout came inside the operation.
    assertThat(gce.model.calls("gce.insert")).hasSize(2);
    assertThat(gce.model.calls("gce.operations.get")).isNotEmpty();
    assertThat(events.events(DispatchEvent.Failover.class)).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo("capacity");
      assertThat(f.offer().zone()).isEqualTo(best);
    });
    assertCostsAddUp(r);
    assertThat(r.cost().amount()).isPositive();
    assertThat(gce.model.liveResources()).isZero();
  }

  @Test
  void submit_spotInstancePreemptedMidRun_requeuesAsAttempt2InTheOtherZone() {
    Dispatcher d = dispatcher();
    gce.model.setDefaultWorkload(Duration.ofMinutes(5), 0);
    JobHandle job = d.submit(job("preempted").spot(SpotPolicy.ONLY).build());
    Await.until("job running", PATIENCE, EVERY, () -> job.state() == JobState.RUNNING ? true : null);
    Attempt first = job.attempts().get(0);
    assertThat(first.spot()).isTrue();

    gce.model.setDefaultWorkload(Duration.ofSeconds(1), 0);
    assertThat(gce.model.preempt(first.resourceName())).isTrue();
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.PREEMPTED, AttemptOutcome.SUCCEEDED);
    Attempt second = r.attempts().get(1);
    assertThat(second.number()).isEqualTo(2);
    assertThat(second.spot()).isTrue();
    assertThat(second.offer().zone()).isEqualTo(other(first.offer().zone()));
    ScriptSandbox.Result run = gce.emulator.observedWorkload(second.resourceName()).orElseThrow();
    assertThat(run.dockerEnv())
        .containsEntry("ACCEL_DISPATCH_ATTEMPT", "2")
        .containsEntry("ACCEL_DISPATCH_JOB_ID", job.id());
    assertThat(events.events(DispatchEvent.Failover.class)).isEmpty();
    assertThat(events.events(DispatchEvent.ResourceReleased.class))
        .extracting(DispatchEvent.ResourceReleased::resourceName)
        .contains(first.resourceName(), second.resourceName());
    assertCostsAddUp(r);
    assertThat(r.attempts().get(0).cost().amount()).isPositive();
    assertThat(gce.model.liveResources()).isZero();
  }

  @Test
  void submit_quotaGpusAllRegionsExhaustedAndNoOtherProvider_waitsQueuedUntilCancelled() {
    Dispatcher d = dispatcher();
    gce.model.setQuota(CloudModel.GLOBAL, "GPUS_ALL_REGIONS", 0);
    JobHandle job = d.submit(job("waits").build());

    Await.until("the quota failover", PATIENCE, EVERY,
        () -> events.events(DispatchEvent.Failover.class).isEmpty() ? null : true);
    Await.until("job back in the queue", PATIENCE, EVERY, () -> job.state() == JobState.QUEUED ? true : null);
    assertThat(job.attempts()).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo(AttemptOutcome.QUOTA));
    assertThat(d.plan(job.spec()).ranked()).as("nothing placeable while the provider is blocked").isEmpty();

    assertThat(job.cancel()).isTrue();
    JobResult r = awaitResult(job);
    assertThat(r.state()).isEqualTo(JobState.CANCELLED);
    assertThat(gce.model.calls("gce.insert")).as("the other region was never asked").hasSize(1);
    assertThat(gce.model.liveResources()).isZero();
  }

  @Test
  void submit_quotaGpusAllRegionsExhausted_blocksEveryRegionAndLandsOnTheOtherProvider() {
    // A dearer provider on the same cloud model, whose GPUs do not count against GCE's quotas.
    FakeProvider fallback = FakeProvider.builder("fallback", gce.model)
        .offer("fb-region", "fb-zone-a", L4, "l4-box", 5.00, null).build();
    Dispatcher d = dispatcher(fallback);
    JobSpec spec = job("global-quota").build();
    assertThat(d.plan(spec).ranked().get(0).offer().providerId()).isEqualTo(GcpGpuProvider.DEFAULT_ID);
    gce.model.setQuota(CloudModel.GLOBAL, "GPUS_ALL_REGIONS", 0);

    JobResult r = awaitResult(d.submit(spec));

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().providerId()).containsExactly(GcpGpuProvider.DEFAULT_ID, "fallback");
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.QUOTA, AttemptOutcome.SUCCEEDED);
    assertThat(r.attempts().get(0).detail()).contains("GPUS_ALL_REGIONS");
    // One refusal was enough: the other region of the provider was never asked.
    assertThat(gce.model.calls("gce.insert")).hasSize(1);
    assertThat(events.events(DispatchEvent.Failover.class)).singleElement()
        .satisfies(f -> assertThat(f.kind()).isEqualTo("quota"));
    Plan after = d.plan(spec);
    assertThat(after.ranked()).extracting(p -> p.offer().providerId()).containsOnly("fallback");
    assertThat(after.excluded()).hasSize(2).allSatisfy(line -> assertThat(line).contains("gcp-gpu/").contains("quota").contains("PROVIDER"));
    assertCostsAddUp(r);
    assertThat(fallback.liveResources()).isZero();
    assertThat(gce.model.liveResources()).isZero();
  }
}
