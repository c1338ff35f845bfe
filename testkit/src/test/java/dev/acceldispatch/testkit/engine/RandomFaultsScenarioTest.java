package dev.acceldispatch.testkit.engine;

import static dev.acceldispatch.testkit.engine.EngineHarness.H100X8;
import static dev.acceldispatch.testkit.engine.EngineHarness.V5E8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobState;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Many jobs through a hostile cloud: every job must end, and nothing may be left running. */
class RandomFaultsScenarioTest {

  @Test
  void thousandJobs_withRandomStockoutsFaultsAndPreemptions_allEndAndNothingLeaks() {
    Random random = new Random(20261125);
    List<String> zones = List.of("r1-a", "r1-b", "r2-a", "r2-b", "r3-a");
    EngineHarness h = new EngineHarness(
        p -> {
          p.limits(ProviderLimits.IN_PROCESS);
          for (String z : zones) {
            String region = z.substring(0, 2);
            p.offer(region, z, H100X8, "h100x8", 80 + zones.indexOf(z), 16.0 + zones.indexOf(z));
            p.offer(region, z, V5E8, "v5litepod-8", 9.6 + zones.indexOf(z) * 0.1, 3.7);
          }
        },
        b -> b.tenant("alice", TenantQuota.UNLIMITED.withMaxConcurrentDevices(160))
            .tenant("bob", TenantQuota.UNLIMITED.withWeight(2).withMaxConcurrentDevices(200))
            .pendingTimeout(Duration.ofMinutes(20))
            // Hours of simulated jobs: poll like a patient production dispatcher would.
            .pollInterval(Duration.ofSeconds(30), Duration.ofMinutes(5)));
    h.cloud.setPreemptionRate(CloudModel.ANY, 0.3);
    h.cloud.setProvisioningTime(Duration.ofSeconds(90));
    for (String z : zones) {
      h.cloud.setCapacity(z, "nvidia-h100-80gb", 64);
      h.cloud.setCapacity(z, "tpu-v5e", 64);
    }

    List<JobHandle> jobs = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      var spec = EngineHarness.job("job-" + i, 300 + random.nextInt(3 * 3600))
          .accelerators(H100X8, V5E8)
          .tenant(random.nextBoolean() ? "alice" : "bob")
          .spot(SpotPolicy.values()[random.nextInt(3)])
          .preemptionBudget(random.nextInt(4))
          .priority(random.nextInt(3));
      if (random.nextInt(10) == 0) {
        spec.env("FAKE_EXIT_CODE", "1");
      }
      if (random.nextInt(20) == 0) {
        spec.hedge(2);
      }
      jobs.add(h.dispatcher.submit(spec.build()));
      if (i % 50 == 0) {
        h.run(Duration.ofMinutes(1));
      }
    }
    for (int hour = 0; hour < 96 && jobs.stream().anyMatch(j -> !j.state().isTerminal()); hour++) {
      // Every hour the cloud misbehaves somewhere new.
      String z = zones.get(random.nextInt(zones.size()));
      h.cloud.stockout(z, CloudModel.ANY, Duration.ofMinutes(20 + random.nextInt(60)));
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.UNAVAILABLE), random.nextInt(8));
      h.cloud.injectFault("fake.status", Fault.of(Fault.Kind.INTERNAL), random.nextInt(8));
      h.cloud.injectFault("fake.release", Fault.of(Fault.Kind.UNAVAILABLE), random.nextInt(3));
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.LOSE_RESPONSE), random.nextInt(2));
      h.cloud.injectFault("fake.provision", Fault.throttled(Duration.ofSeconds(30)), random.nextInt(3));
      if (random.nextInt(4) == 0) {
        h.cloud.setQuota(z.substring(0, 2), "nvidia-h100-80gb", 0);
      } else {
        h.cloud.clearQuotas();
      }
      h.run(Duration.ofHours(1));
    }
    h.cloud.clearFaults();
    h.run(Duration.ofMinutes(10));

    for (JobHandle j : jobs) {
      if (!j.state().isTerminal()) {
        String name = j.attempts().get(j.attempts().size() - 1).resourceName();
        System.out.println("not terminal: " + h.cloud.find(name) + " statusCalls=" + h.cloud.calls("fake.status").stream().filter(c -> c.target().equals(name)).map(c -> c.at().toString()).toList());
      }
    }
    Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
    jobs.forEach(j -> byState.merge(j.state(), 1, Integer::sum));
    System.out.println("1000 jobs under random faults: " + byState + ", preemptions "
        + h.events.events(DispatchEvent.AttemptEnded.class).stream().filter(e -> e.outcome().name().equals("PREEMPTED")).count()
        + ", failovers " + h.events.events(DispatchEvent.Failover.class).size() + ", live resources " + h.provider.liveResources());
    assertThat(jobs).allSatisfy(j -> assertThat(j.state().isTerminal()).as("%s %s at %s", j, j.attempts(), h.scheduler.now()).isTrue());
    assertThat(jobs).allSatisfy(j -> assertThat(j.result()).isCompleted());
    assertThat(byState.getOrDefault(JobState.SUCCEEDED, 0)).isGreaterThan(500);
    assertThat(h.events.events(DispatchEvent.Failover.class)).isNotEmpty();
    assertThat(h.provider.liveResources()).as("resources left in the cloud").isZero();
    h.close();
  }
}
