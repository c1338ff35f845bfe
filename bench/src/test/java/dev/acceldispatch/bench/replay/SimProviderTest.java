package dev.acceldispatch.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The simulated clouds' rules: refusal latency, billing until delete, machine start, preemption. */
class SimProviderTest {
  private static final Duration BOOT = Duration.ofSeconds(90);

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Offer a100 = SimulatedClouds.offersIn("gcp-gpu", "us-central1", "us-central1-a", PriceCatalog.defaults()).get(0);

  private SimProvider cloud(SimProvider.Refusal refusal, Duration minimumCharge, double preemptionPerHour) {
    CloudModel model = CloudModel.create(scheduler.manualClock(), 1);
    SimProvider p = new SimProvider("gcp-gpu", model, scheduler, List.of(a100),
        new SimProvider.Rules(refusal, minimumCharge, preemptionPerHour, 0, 0, 0), 7);
    p.provisioningTime(BOOT);
    p.capacity("us-central1-a", a100.shape().type().id(), 8);
    return p;
  }

  private ProvisionRequest request(String name, Duration run, boolean spot) {
    Workload w = Workload.script("run").env(SimProvider.ENV_REF_MILLIS, Long.toString(run.toMillis()))
        .env(SimProvider.ENV_REF_TFLOPS, Double.toString(a100.shape().totalTflops())).build();
    return new ProvisionRequest(name, "fleet", "job-" + name, 1, a100, spot, w, Map.of(), null);
  }

  private double hourly(boolean spot) {
    return a100.hourly(spot).toDouble();
  }

  @Test
  void release_afterWorkloadExited_billsFromCreateUntilDelete() {
    SimProvider p = cloud(SimProvider.Refusal.parse("15"), Duration.ZERO, 0);
    ProvisionedResource r = p.provision(request("m1", Duration.ofMinutes(30), false));

    // Boot 90 s, run 30 min, then idle until the delete 2 h after the create.
    scheduler.advance(Duration.ofHours(2));
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    p.release(r);

    assertThat(p.costSoFar()).isCloseTo(2 * hourly(false), within(1e-9));
    assertThat(p.idleBilledHours()).isCloseTo(2 - 0.5, within(1e-9));
  }

  @Test
  void release_beforeMinimumCharge_billsTheMinimum() {
    SimProvider p = cloud(SimProvider.Refusal.parse("15"), Duration.ofMinutes(1), 0);
    ProvisionedResource r = p.provision(request("m1", Duration.ofMinutes(30), false));

    scheduler.advance(Duration.ofSeconds(10));
    p.release(r);

    assertThat(p.costSoFar()).isCloseTo(hourly(false) / 60, within(1e-9));
  }

  @Test
  void status_stockedOutZone_pendingUntilRefusalLatencyThenCapacityUnavailable() {
    SimProvider p = cloud(SimProvider.Refusal.parse("15"), Duration.ofMinutes(1), 0);
    Instant now = scheduler.now();
    p.stockout("us-central1-a", a100.shape().type().id(), now, now.plus(Duration.ofHours(1)));
    ProvisionedResource r = p.provision(request("m1", Duration.ofMinutes(30), false));

    scheduler.advance(Duration.ofSeconds(14));
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    scheduler.advance(Duration.ofSeconds(1));
    assertThatThrownBy(() -> p.status(r)).isInstanceOf(ProviderException.CapacityUnavailable.class);
    p.release(r);

    assertThat(p.failedCreates()).isEqualTo(1);
    assertThat(p.costSoFar()).isZero();
  }

  @Test
  void status_queuedResourceInStockout_waitsThenFilledAndBilledFromFilling() {
    SimProvider p = cloud(SimProvider.Refusal.parse("wait"), Duration.ZERO, 0);
    Instant now = scheduler.now();
    p.stockout("us-central1-a", a100.shape().type().id(), now, now.plus(Duration.ofMinutes(20)));
    ProvisionedResource r = p.provision(request("m1", Duration.ofMinutes(30), false));

    scheduler.advance(Duration.ofMinutes(10));
    assertThat(p.status(r).detail()).isEqualTo("WAITING_FOR_RESOURCES");
    scheduler.advance(Duration.ofMinutes(10));
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    scheduler.advance(Duration.ofHours(1));
    p.release(r);

    assertThat(p.failedCreates()).isZero();
    assertThat(p.costSoFar()).isCloseTo(hourly(false), within(1e-9));
    assertThat(p.outcome("m1").orElseThrow().startedAt()).isEqualTo(now.plus(Duration.ofMinutes(20)).plus(BOOT));
  }

  @Test
  void outcome_machineStartedBetweenPolls_isTheMachinesStartNotThePoll() {
    SimProvider p = cloud(SimProvider.Refusal.parse("15"), Duration.ZERO, 0);
    Instant created = scheduler.now();
    ProvisionedResource r = p.provision(request("m1", Duration.ofMinutes(30), false));

    scheduler.advance(Duration.ofMinutes(10));
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
    scheduler.advance(Duration.ofMinutes(30));
    p.release(r);

    SimProvider.Outcome o = p.outcome("m1").orElseThrow();
    assertThat(o.startedAt()).isEqualTo(created.plus(BOOT));
    assertThat(o.workloadEndedAt()).isEqualTo(created.plus(BOOT).plus(Duration.ofMinutes(30)));
  }

  @Test
  void spotMachine_lifeShorterThanRun_preemptedAtItsDrawnLifeAndBilledUntilThen() {
    SimProvider p = cloud(SimProvider.Refusal.parse("15"), Duration.ZERO, 1.0);
    Duration life = p.nextSpotLife("us-central1-a");
    assertThat(life).as("seed 7's first life ends after boot, so the workload started").isGreaterThan(BOOT);
    Instant created = scheduler.now();
    ProvisionedResource r = p.provision(request("m1", life.plus(Duration.ofHours(5)), true));

    scheduler.advance(life.plus(Duration.ofHours(1)));
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    p.release(r);

    assertThat(p.preemptions()).isEqualTo(1);
    assertThat(p.costSoFar()).isCloseTo(life.toMillis() / 3_600_000.0 * hourly(true), within(1e-9));
    assertThat(p.nextSpotLife("us-central1-a")).as("the next machine gets the next draw").isNotEqualTo(life);
    SimProvider.Outcome o = p.outcome("m1").orElseThrow();
    assertThat(o.startedAt()).isEqualTo(created.plus(BOOT));
    assertThat(o.workloadEndedAt()).as("the workload never ended on a preempted machine").isNull();
  }
}
