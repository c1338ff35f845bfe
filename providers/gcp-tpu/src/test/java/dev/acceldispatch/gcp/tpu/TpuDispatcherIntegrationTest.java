package dev.acceldispatch.gcp.tpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real engine driving the real TPU provider, through the real {@link TpuClient}, against the
 * TPU emulator, in real time (issue 3 at engine level): preemption, stockout and quota failover,
 * result, cost, and nothing left behind in the cloud.
 */
class TpuDispatcherIntegrationTest {
  private static final String WEST = "us-west4-a";
  private static final String CENTRAL = "us-central1-a";
  private static final AcceleratorShape V5E8 = Shapes.tpuV5e(8);
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration EVERY = Duration.ofMillis(50);

  private TpuEmulator emulator;
  private TpuClient client;
  private GcpTpuProvider provider;
  private final RecordingListener events = new RecordingListener();
  private Dispatcher dispatcher;

  @BeforeEach
  void start() throws IOException {
    emulator = TpuEmulator.create(CloudModel.create().setProvisioningTime(Duration.ofMillis(300))
        .setDefaultWorkload(Duration.ofSeconds(1), 0)).start();
    client = TpuClient.create(emulator.clientSettings());
    provider = GcpTpuProvider.builder(client).project("integ-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST, CENTRAL)
        .callTimeout(Duration.ofSeconds(5)).build();
    dispatcher = dispatcher(Dispatcher.builder());
  }

  private Dispatcher dispatcher(Dispatcher.Builder b) {
    return b.provider(provider)
        .listener(events)
        .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
        .shutdownTimeout(Duration.ofSeconds(10))
        .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    dispatcher.close();
    provider.close();
    client.close();
    client.awaitTermination(10, TimeUnit.SECONDS);
    emulator.close();
  }

  @AfterAll
  static void noDispatcherThreadLeft() {
    assertNoDispatcherThreadLeft();
  }

  /** What a dispatcher starts (its engine thread and provider pool) ends with close(). */
  private static void assertNoDispatcherThreadLeft() {
    Await.noThreadAlive("accel-dispatch-", Duration.ofSeconds(5));
  }

  private static JobSpec.Builder job(String name) {
    return JobSpec.builder(name)
        .container("us-docker.pkg.dev/integ/train:1", "python", "train.py", "--epochs=1")
        .accelerators(V5E8)
        .referenceRunTime(V5E8, Duration.ofMinutes(10));
  }

  private static JobResult awaitResult(JobHandle job) {
    return Await.until("the end of job " + job.id(), PATIENCE, EVERY,
        () -> job.result().isDone() ? job.result().join() : null);
  }

  private static JobState awaitState(JobHandle job, JobState state) {
    return Await.until(job.id() + " in state " + state, PATIENCE, EVERY, () -> job.state() == state ? state : null);
  }

  /** Nothing of the job is left in the cloud: no model resource, and soon no queued resource. */
  private void assertNothingLeftInTheCloud() {
    assertThat(emulator.model().liveResources()).as("live resources in the model").isZero();
    // Deletes take time (DELETING first), so the queued resources go a moment after the release.
    Await.until("no queued resource left", PATIENCE, EVERY, () -> emulator.queuedResourceCount() == 0 ? true : null);
  }

  /** Each attempt costs its hourly price for the time it was held; the job costs their sum. */
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

  /** The startup script of the (single) node of the queued resource created under {@code name}. */
  private String startupScriptSent(String name) {
    CreateQueuedResourceRequest create = emulator.createRequests().stream()
        .filter(c -> c.getQueuedResourceId().equals(name)).findFirst().orElseThrow();
    return create.getQueuedResource().getTpu().getNodeSpec(0).getNode().getMetadataOrThrow("startup-script");
  }

  @Test
  void submit_spotSlicePreemptedMidRun_requeuesAsAttempt2InTheOtherZone() {
    // Long enough that only the preemption ends attempt 1.
    emulator.model().setDefaultWorkload(Duration.ofMinutes(5), 0);
    JobHandle job = dispatcher.submit(job("preempted").spot(SpotPolicy.PREFER).checkpointLocation("gs://integ/ckpt").build());
    awaitState(job, JobState.RUNNING);
    Attempt first = job.attempts().get(0);
    assertThat(first.spot()).isTrue();
    // The spot tier of us-central1 is the cheapest v5e in the catalog.
    assertThat(first.offer().zone()).isEqualTo(CENTRAL);

    emulator.model().setDefaultWorkload(Duration.ofSeconds(1), 0);
    assertThat(emulator.model().preempt(first.resourceName())).isTrue();
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.exitCode()).isZero();
    assertThat(r.attempts()).extracting(Attempt::number).containsExactly(1, 2);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.PREEMPTED, AttemptOutcome.SUCCEEDED);
    Attempt second = r.attempts().get(1);
    assertThat(second.offer().zone()).isEqualTo(WEST);
    assertThat(second.spot()).isTrue();
    // The emulator forgets a slice's sandboxed run once the slice is deleted, which the engine
    // does as soon as the job ends: run attempt 2's startup script, as sent, the same way.
    ScriptSandbox.Result run = new ScriptSandbox().fake("curl", "exit 0").run(startupScriptSent(second.resourceName()), 0);
    assertThat(run.dockerRan()).isTrue();
    assertThat(run.dockerEnv())
        .containsEntry("ACCEL_DISPATCH_ATTEMPT", "2")
        .containsEntry("ACCEL_DISPATCH_JOB_ID", job.id())
        .containsEntry("ACCEL_DISPATCH_CHECKPOINT_DIR", "gs://integ/ckpt");
    assertThat(startupScriptSent(first.resourceName())).contains("export ACCEL_DISPATCH_ATTEMPT='1'");

    assertCostsAddUp(r);
    assertThat(r.attempts().get(0).cost().amount()).isPositive();
    assertThat(second.cost().amount()).isPositive();
    assertThat(events.events(DispatchEvent.Failover.class)).isEmpty();
    assertThat(events.events(DispatchEvent.JobStateChanged.class))
        .anySatisfy(e -> {
          assertThat(e.from()).isEqualTo(JobState.RUNNING);
          assertThat(e.to()).isEqualTo(JobState.QUEUED);
        });
    assertThat(events.events(DispatchEvent.ResourceReleased.class))
        .extracting(DispatchEvent.ResourceReleased::resourceName)
        .contains(first.resourceName(), second.resourceName());
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_stockoutInBestZone_failsOverToTheOtherZone() {
    JobSpec spec = job("stockout").build();
    String best = dispatcher.plan(spec).ranked().get(0).offer().zone();
    String other = best.equals(WEST) ? CENTRAL : WEST;
    emulator.model().stockout(best, TpuEmulator.POOL, Duration.ofHours(1));

    JobHandle job = dispatcher.submit(spec);
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly(best, other);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
    assertThat(r.attempts().get(0).cost()).isEqualTo(Money.ZERO);
    assertCostsAddUp(r);
    assertThat(r.cost().amount()).isPositive();
    List<DispatchEvent.Failover> failovers = events.events(DispatchEvent.Failover.class);
    assertThat(failovers).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo("capacity");
      assertThat(f.offer().zone()).isEqualTo(best);
      assertThat(f.blockedUntil()).isAfter(f.at());
    });
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_quotaExhaustedInBestZone_failsOverToTheOtherZone() {
    JobSpec spec = job("quota").build();
    String best = dispatcher.plan(spec).ranked().get(0).offer().zone();
    String other = best.equals(WEST) ? CENTRAL : WEST;
    emulator.model().setQuota(best, TpuEmulator.ON_DEMAND_QUOTA, 4);

    JobHandle job = dispatcher.submit(spec);
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly(best, other);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.QUOTA, AttemptOutcome.SUCCEEDED);
    assertThat(r.attempts().get(0).detail()).contains(TpuEmulator.ON_DEMAND_QUOTA);
    assertCostsAddUp(r);
    assertThat(r.cost().amount()).isPositive();
    assertThat(events.events(DispatchEvent.Failover.class)).singleElement()
        .satisfies(f -> assertThat(f.kind()).isEqualTo("quota"));
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_sliceWaitingForResourcesPastPendingTimeout_isReleasedAndFailsOverToTheOtherZone() {
    // As the real service does: a stocked-out queued resource waits in WAITING_FOR_RESOURCES.
    emulator.queueWhenNoCapacity(true);
    dispatcher.close();
    dispatcher = dispatcher(Dispatcher.builder().pendingTimeout(Duration.ofSeconds(2)));
    JobSpec spec = job("waiting").build();
    String best = dispatcher.plan(spec).ranked().get(0).offer().zone();
    String other = best.equals(WEST) ? CENTRAL : WEST;
    emulator.model().stockout(best, TpuEmulator.POOL, Duration.ofHours(1));

    JobHandle job = dispatcher.submit(spec);
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly(best, other);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
    Attempt first = r.attempts().get(0);
    assertThat(first.detail()).contains("PENDING_TIMEOUT").contains("WAITING_FOR_RESOURCES");
    assertThat(Duration.between(first.startedAt(), first.endedAt())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(first.cost()).isEqualTo(Money.ZERO);
    assertThat(emulator.deleteRequests()).extracting(d -> d.getName())
        .anyMatch(n -> n.endsWith("/queuedResources/" + first.resourceName()));
    assertCostsAddUp(r);
    assertThat(events.events(DispatchEvent.Failover.class)).singleElement()
        .satisfies(f -> assertThat(f.kind()).isEqualTo("capacity"));
    assertNothingLeftInTheCloud();
  }
}
