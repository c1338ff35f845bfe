package dev.acceldispatch.azure.gpu;

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
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real engine driving the real Azure GPU provider, through the real {@code ComputeManager},
 * against the ARM emulator, in real time (issue 5 at engine level): a Spot eviction requeues,
 * every capacity error fails over, throttling is waited out, and each attempt's VM, NIC and disk
 * are gone at the end.
 */
class AzureDispatcherIntegrationTest {
  private static final AcceleratorShape T4 = Shapes.gpu(AcceleratorType.NVIDIA_T4, 1);
  private static final String T4_POOL = "nvidia-t4";
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration EVERY = Duration.ofMillis(50);

  private AzureTestWiring wiring;
  private CloudModel model;
  private Dispatcher dispatcher;
  private final RecordingListener events = new RecordingListener();

  @BeforeEach
  void start() {
    model = CloudModel.create().setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofSeconds(1), 0);
    wiring = AzureTestWiring.start(model);
    dispatcher = Dispatcher.builder()
        .provider(wiring.providerBuilder().build())
        .listener(events)
        .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
        .shutdownTimeout(Duration.ofSeconds(10))
        .build();
  }

  @AfterEach
  void stop() {
    dispatcher.close();
    wiring.close();
  }

  @AfterAll
  static void noThreadsLeft() {
    assertNoDispatcherThreadLeft();
    AzureTestWiring.assertNoThreadsLeft();
  }

  /** What a dispatcher starts (its engine thread and provider pool) ends with close(). */
  private static void assertNoDispatcherThreadLeft() {
    Await.noThreadAlive("accel-dispatch-", Duration.ofSeconds(5));
  }

  private static JobSpec.Builder job(String name) {
    return JobSpec.builder(name)
        .container("integ.azurecr.io/train:3", "python", "train.py")
        .accelerators(T4)
        .referenceRunTime(T4, Duration.ofMinutes(10));
  }

  private static JobResult awaitResult(JobHandle job) {
    return Await.until("the end of job " + job.id(), PATIENCE, EVERY,
        () -> job.result().isDone() ? job.result().join() : null);
  }

  private static String other(String region) {
    return region.equals("eastus") ? "westus2" : "eastus";
  }

  private Set<String> helpersOf(String vmName) {
    return wiring.emulator.helperResources().keySet().stream().filter(id -> id.contains(vmName)).collect(Collectors.toSet());
  }

  /**
   * No VM, NIC or disk of this test is left in the emulator or the model, once ARM's deletes (which
   * take time) have ended.
   */
  private void assertNothingLeftInTheCloud() {
    Await.until("every delete ended", PATIENCE, EVERY,
        () -> wiring.compute.virtualMachines().listByResourceGroup(AzureTestWiring.RESOURCE_GROUP).stream().findAny().isEmpty() ? true : null);
    assertThat(model.liveResources()).as("live resources in the model").isZero();
    assertThat(wiring.emulator.helperResources()).as("NICs and disks").isEmpty();
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

  @Test
  void submit_spotVmEvicted_requeuesAsAttempt2InTheOtherRegionAndLeavesNoNicOrDisk() {
    model.setDefaultWorkload(Duration.ofMinutes(5), 0);
    JobHandle job = dispatcher.submit(job("evicted").spot(SpotPolicy.ONLY).build());
    Await.until("job running", PATIENCE, EVERY, () -> job.state() == JobState.RUNNING ? true : null);
    Attempt first = job.attempts().get(0);
    assertThat(first.spot()).isTrue();
    assertThat(helpersOf(first.resourceName())).as("NIC and OS disk of attempt 1").hasSize(2);

    model.setDefaultWorkload(Duration.ofSeconds(1), 0);
    assertThat(model.preempt(first.resourceName())).isTrue();
    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.PREEMPTED, AttemptOutcome.SUCCEEDED);
    Attempt second = r.attempts().get(1);
    assertThat(second.number()).isEqualTo(2);
    assertThat(second.spot()).isTrue();
    assertThat(second.offer().region()).isEqualTo(other(first.offer().region()));
    ScriptSandbox.Result run = wiring.emulator.observedWorkload(second.resourceName()).orElseThrow();
    assertThat(run.dockerEnv())
        .containsEntry("ACCEL_DISPATCH_ATTEMPT", "2")
        .containsEntry("ACCEL_DISPATCH_JOB_ID", job.id());
    assertThat(events.events(DispatchEvent.Failover.class)).isEmpty();
    assertThat(events.events(DispatchEvent.ResourceReleased.class))
        .extracting(DispatchEvent.ResourceReleased::resourceName)
        .contains(first.resourceName(), second.resourceName());
    assertCostsAddUp(r);
    assertThat(r.attempts().get(0).cost().amount()).isPositive();
    assertNothingLeftInTheCloud();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "AllocationFailed, SYNC", "AllocationFailed, ASYNC",
    "ZonalAllocationFailed, SYNC", "ZonalAllocationFailed, ASYNC",
    "OverconstrainedAllocationRequest, SYNC", "OverconstrainedAllocationRequest, ASYNC",
    "SkuNotAvailable, SYNC", "SkuNotAvailable, ASYNC"
  })
  void submit_capacityErrorInBestRegion_failsOverToTheOtherRegion(String code, AzureEmulator.Delivery delivery) {
    JobSpec spec = job("capacity").build();
    String best = dispatcher.plan(spec).ranked().get(0).offer().region();
    wiring.emulator.capacityErrors(code, delivery);
    model.stockout(best, T4_POOL, Duration.ofHours(1));

    JobResult r = awaitResult(dispatcher.submit(spec));

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).extracting(a -> a.offer().region()).containsExactly(best, other(best));
    assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
    assertThat(r.attempts().get(0).detail()).contains(code);
    assertThat(events.events(DispatchEvent.Failover.class)).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo("capacity");
      assertThat(f.offer().region()).isEqualTo(best);
    });
    assertCostsAddUp(r);
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_throttledWithRetryAfter_waitsItOutAndLandsInTheSameRegionWithoutFailover() {
    JobSpec spec = job("throttled").build();
    String best = dispatcher.plan(spec).ranked().get(0).offer().region();
    // The SDK's own retry policy (2 retries) honours the first two; the third reaches the engine.
    model.injectFault(AzureEmulator.OP_PUT, Fault.throttled(Duration.ofSeconds(1)), 3);

    JobResult r = awaitResult(dispatcher.submit(spec));

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).singleElement().satisfies(a -> {
      assertThat(a.offer().region()).isEqualTo(best);
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    });
    List<CloudModel.Call> puts = model.calls(AzureEmulator.OP_PUT);
    assertThat(puts).hasSize(4);
    for (int i = 1; i < puts.size(); i++) {
      assertThat(Duration.between(puts.get(i - 1).at(), puts.get(i).at()))
          .as("wait before PUT %d", i + 1).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    }
    assertThat(events.events(DispatchEvent.Failover.class)).isEmpty();
    assertThat(dispatcher.plan(spec).excluded()).isEmpty();
    assertCostsAddUp(r);
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_jobSucceeds_releaseRemovesTheVmNicAndDiskOfTheAttempt() {
    model.setDefaultWorkload(Duration.ofSeconds(2), 0);
    JobHandle job = dispatcher.submit(job("clean").build());
    Await.until("job running", PATIENCE, EVERY, () -> job.state() == JobState.RUNNING ? true : null);
    String vm = job.attempts().get(0).resourceName();
    Set<String> helpers = helpersOf(vm);
    assertThat(helpers).anyMatch(id -> id.contains("/networkInterfaces/")).anyMatch(id -> id.contains("/disks/"));

    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.exitCode()).isZero();
    assertThat(r.attempts()).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED));
    assertThat(model.calls(AzureEmulator.OP_DELETE)).extracting(CloudModel.Call::target).anyMatch(t -> t.contains(vm));
    assertThat(events.events(DispatchEvent.ResourceReleased.class)).singleElement()
        .satisfies(e -> assertThat(e.resourceName()).isEqualTo(vm));
    assertCostsAddUp(r);
    assertThat(r.cost().amount()).isPositive();
    assertNothingLeftInTheCloud();
  }

  @Test
  void submit_vmIdentityWithoutTagRole_vmPowersOffAndTheEngineReleasesItInsteadOfBillingUntilTheTimeout() {
    wiring.emulator.clearRoles();
    JobHandle job = dispatcher.submit(job("unreported").timeout(Duration.ofHours(6)).build());

    JobResult r = awaitResult(job);

    assertThat(r.state()).isEqualTo(JobState.FAILED);
    assertThat(r.attempts()).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.FAILED);
      assertThat(a.detail()).contains("powered itself off");
    });
    String vm = r.attempts().get(0).resourceName();
    assertThat(wiring.emulator.observedWorkload(vm).orElseThrow().file("tags-refused.json")).contains("AuthorizationFailed");
    assertThat(events.events(DispatchEvent.ResourceReleased.class)).singleElement()
        .satisfies(e -> assertThat(e.resourceName()).isEqualTo(vm));
    assertNothingLeftInTheCloud();
  }
}
