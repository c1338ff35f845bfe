package dev.acceldispatch.testkit.engine;

import static dev.acceldispatch.testkit.engine.EngineHarness.H100X8;
import static dev.acceldispatch.testkit.engine.EngineHarness.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.Plan;
import dev.acceldispatch.QueueFullException;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class DispatcherScenarioTest {

  private static JobResult done(JobHandle h) {
    assertThat(h.result()).as("result of %s", h).isCompleted();
    return h.result().join();
  }

  @Test
  void submit_stockoutInCheapestZone_landsOnNextBestOfferAtOnce() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofHours(1));
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(5));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r1-b");
      assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
      // Failover is immediate: the second attempt starts the instant the first one failed.
      assertThat(r.attempts().get(1).startedAt()).isEqualTo(r.attempts().get(0).endedAt());
      assertThat(h.events.events(DispatchEvent.Failover.class)).singleElement()
          .satisfies(f -> assertThat(f.kind()).isEqualTo("capacity"));
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  /** One zone selling H100 x8, nothing else. */
  private static EngineHarness oneZone(Consumer<Dispatcher.Builder> settings) {
    return new EngineHarness(p -> p.offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0), settings);
  }

  /** How long each capacity failure of the job blocked its offer, in minutes. */
  private static List<Long> blockMinutes(EngineHarness h, JobHandle job) {
    return h.events.events(DispatchEvent.Failover.class).stream().filter(f -> f.jobId().equals(job.id()))
        .map(f -> Duration.between(f.at(), f.blockedUntil()).toMinutes()).toList();
  }

  @Test
  void stockoutThatLasts_isReprobedLessAndLessOften_andAStartResetsTheBackoff() {
    try (EngineHarness h = oneZone(b -> {})) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofHours(3));
      JobHandle first = h.dispatcher.submit(job("waits-out-the-stockout", 60).build());
      h.run(Duration.ofHours(4));

      assertThat(done(first).state()).isEqualTo(JobState.SUCCEEDED);
      // Default 10 min, doubling while the zone stays out, capped at 40 min: tries at 0, 10, 30, 70,
      // 110 and 150 min fail, the one at 190 min (after the 3 h stockout) runs.
      assertThat(blockMinutes(h, first)).containsExactly(10L, 20L, 40L, 40L, 40L, 40L);

      // The job started there, so the next stockout is probed again after the first length.
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofMinutes(15));
      JobHandle second = h.dispatcher.submit(job("after-the-reset", 60).build());
      h.run(Duration.ofHours(1));
      assertThat(done(second).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(blockMinutes(h, second)).containsExactly(10L, 20L);
    }
  }

  @Test
  void capacityBlockWithOneLength_neverBacksOff() {
    try (EngineHarness h = oneZone(b -> b.capacityBlock(Duration.ofMinutes(10)))) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofMinutes(45));
      JobHandle job = h.dispatcher.submit(job("fixed-blocklist", 60).build());
      h.run(Duration.ofHours(2));

      assertThat(done(job).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(blockMinutes(h, job)).containsExactly(10L, 10L, 10L, 10L, 10L);
    }
  }

  @Test
  void stockout_manyQueuedJobs_probeOneCreateAtATimeThenSpeedUpAsCreatesSucceed() {
    try (EngineHarness h = oneZone(b -> {})) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofMinutes(15));
      List<JobHandle> jobs = new java.util.ArrayList<>();
      for (int i = 0; i < 5; i++) {
        jobs.add(h.dispatcher.submit(job("herd-" + i, 60).build()));
      }
      h.run(Duration.ofHours(2));

      assertThat(jobs).allSatisfy(j -> assertThat(done(j).state()).isEqualTo(JobState.SUCCEEDED));
      // Every offer starts slow: at t=0 one create probes the zone for all five and fails (not
      // five). When the block ends (10 min), one create probes again (still out: blocked 20 min
      // more). At 30 min one probes and is accepted, then two at once, then the last two.
      List<Instant> failed = h.events.events(DispatchEvent.Failover.class).stream().map(DispatchEvent.Failover::at).toList();
      Instant t0 = failed.get(0);
      assertThat(failed).extracting(t -> Duration.between(t0, t).toMinutes()).containsExactly(0L, 10L);
      assertThat(h.cloud.calls("fake.provision")).extracting(c -> Duration.between(t0, c.at()).toMinutes())
          .containsExactly(0L, 10L, 30L, 30L, 30L, 30L, 30L);
      // The slow start: one create in flight, then two, then the rest: each wave is sent only
      // after the previous was accepted (here at once, as the fake cloud answers at once).
      assertThat(jobs).extracting(j -> done(j).attempts().size()).containsExactlyInAnyOrder(3, 1, 1, 1, 1);
    }
  }

  /**
   * One H100 fails for capacity in r1-a, then a job that needs eight is submitted: the zones it
   * tried, in order (r1-a is the cheaper zone for eight too).
   */
  private static List<String> zonesOfEightGpuJobAfterOneGpuStockout(Consumer<Dispatcher.Builder> settings) {
    AcceleratorShape h100x1 = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 1);
    try (EngineHarness h = new EngineHarness(
        p -> p.offer("r1", "r1-a", h100x1, "h100x1", 10, null).offer("r1", "r1-a", H100X8, "h100x8", 80, null)
            .offer("r2", "r2-c", H100X8, "h100x8", 90, null),
        settings)) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofHours(1));
      JobHandle small = h.dispatcher.submit(job("one-gpu", 60).accelerators(h100x1)
          .referenceRunTime(h100x1, Duration.ofSeconds(60)).build());
      h.run(Duration.ofSeconds(10));
      assertThat(small.attempts()).first().satisfies(a -> assertThat(a.outcome()).isEqualTo(AttemptOutcome.CAPACITY));

      JobHandle big = h.dispatcher.submit(job("eight-gpus", 60).build());
      h.run(Duration.ofMinutes(5));
      return done(big).attempts().stream().map(a -> a.offer().zone()).toList();
    }
  }

  @Test
  void stockoutOfOneDevice_blocksTheLargerShapesOfThatTypeInTheZone() {
    // No single H100 in r1-a: no eight there either, so the big job goes straight to r2-c.
    assertThat(zonesOfEightGpuJobAfterOneGpuStockout(b -> {})).containsExactly("r2-c");
  }

  @Test
  void stockoutCoversLargerShapesOff_blocksOnlyTheShapeThatFailed() {
    assertThat(zonesOfEightGpuJobAfterOneGpuStockout(b -> b.stockoutCoversLargerShapes(false))).containsExactly("r1-a", "r2-c");
  }

  @Test
  void submit_quotaExceededInRegion_skipsEveryZoneOfThatRegion() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.setQuota("r1", CloudModel.ANY, 0);
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(5));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r2-c");
      assertThat(r.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.QUOTA);
    }
  }

  @Test
  void submit_throttledWithRetryAfter_waitsAtLeastThatLongBeforeRetrying() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.injectFault("fake.provision", Fault.throttled(Duration.ofSeconds(45)), 1);
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(5));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).hasSize(1);
      List<CloudModel.Call> calls = h.cloud.calls("fake.provision");
      assertThat(calls).hasSize(2);
      assertThat(Duration.between(calls.get(0).at(), calls.get(1).at())).isGreaterThanOrEqualTo(Duration.ofSeconds(45));
      assertThat(h.events.events(DispatchEvent.Failover.class)).isEmpty();
    }
  }

  @Test
  void submit_transientErrors_areRetriedWithBackoffThenFailOver() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      // The default limits retry 4 times: 5 failures exhaust the first offer, and open the
      // circuit breaker of region r1 (5 failures). The create may have taken effect (a transient
      // error says nothing), so the job starts nowhere else until the release of its name
      // succeeded, which the open breaker delays; by then r1 is closed again and r1-b is next.
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.UNAVAILABLE), 5);
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(10));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r1-b");
      assertThat(r.attempts().get(0).detail()).contains("transient");
      List<Instant> at = h.cloud.calls("fake.provision").stream().map(CloudModel.Call::at).toList();
      assertThat(at).hasSize(6);
      Duration first = Duration.between(at.get(0), at.get(1));
      Duration last = Duration.between(at.get(3), at.get(4));
      assertThat(first).isPositive();
      assertThat(last).isGreaterThan(first);
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void preemption_requeuesWithAttempt2ElsewhereAndAvoidsThePreemptedZone() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 3600).spot(SpotPolicy.PREFER).checkpointLocation("gs://ckpt/train").build());
      h.run(Duration.ofMinutes(10));
      assertThat(job.state()).isEqualTo(JobState.RUNNING);
      String first = job.attempts().get(0).resourceName();
      assertThat(job.attempts().get(0).offer().zone()).isEqualTo("r1-a");
      assertThat(h.cloud.preempt(first)).isTrue();
      h.run(Duration.ofHours(2));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.PREEMPTED);
      Attempt second = r.attempts().get(1);
      assertThat(second.number()).isEqualTo(2);
      assertThat(second.offer().zone()).isNotEqualTo("r1-a");
      assertThat(second.spot()).isTrue();
      ProvisionRequest req = h.provider.requests().stream().filter(q -> q.attempt() == 2).findFirst().orElseThrow();
      assertThat(req.workload().env())
          .containsEntry("ACCEL_DISPATCH_ATTEMPT", "2")
          .containsEntry("ACCEL_DISPATCH_JOB_ID", job.id())
          .containsEntry("ACCEL_DISPATCH_CHECKPOINT_DIR", "gs://ckpt/train");
      assertThat(r.cost().amount()).isPositive();
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void preemption_afterOnDemandThreshold_fallsBackToOnDemand() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 3600).spot(SpotPolicy.ONLY).onDemandAfterPreemptions(1).build());
      h.run(Duration.ofMinutes(5));
      h.cloud.preempt(job.attempts().get(0).resourceName());
      h.run(Duration.ofHours(2));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(Attempt::spot).containsExactly(true, false);
    }
  }

  @Test
  void preemption_overBudget_failsTheJobAndReleasesEverything() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 3600).spot(SpotPolicy.ONLY).preemptionBudget(1).build());
      for (int i = 0; i < 2; i++) {
        h.run(Duration.ofMinutes(5));
        h.cloud.preempt(job.attempts().get(job.attempts().size() - 1).resourceName());
      }
      h.run(Duration.ofMinutes(5));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.FAILED);
      assertThat(r.message()).contains("preemptionBudget of 1");
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void vanishedResource_isLostAndRequeued() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 600).build());
      h.run(Duration.ofMinutes(2));
      h.cloud.delete(job.attempts().get(0).resourceName());
      h.run(Duration.ofHours(1));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.LOST, AttemptOutcome.SUCCEEDED);
    }
  }

  @Test
  void cancel_duringProvisioning_releasesTheResource() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.setProvisioningTime(Duration.ofMinutes(5));
      JobHandle job = h.dispatcher.submit(job("train", 600).build());
      h.run(Duration.ofSeconds(30));
      assertThat(job.state()).isEqualTo(JobState.PROVISIONING);
      assertThat(h.provider.liveResources()).isEqualTo(1);

      assertThat(job.cancel()).isTrue();
      h.run(Duration.ofSeconds(30));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.CANCELLED);
      assertThat(r.attempts()).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo(AttemptOutcome.CANCELLED));
      assertThat(h.provider.liveResources()).isZero();
      assertThat(job.cancel()).isFalse();
    }
  }

  @Test
  void cancel_byCancellingTheResultFuture_cancelsTheJob() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 600).build());
      h.run(Duration.ofMinutes(1));
      job.result().cancel(true);
      h.run(Duration.ofMinutes(1));
      assertThat(job.state()).isEqualTo(JobState.CANCELLED);
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void hedging_keepsTheFirstThatRuns_andLeavesExactlyOneResource() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("train", 3600).hedge(3).build());
      h.run(Duration.ofMillis(100));
      assertThat(job.attempts()).hasSize(3);
      assertThat(job.attempts()).extracting(a -> a.offer().zone()).containsExactlyInAnyOrder("r1-a", "r1-b", "r2-c");
      h.run(Duration.ofMinutes(2));
      assertThat(job.state()).isEqualTo(JobState.RUNNING);
      assertThat(h.provider.liveResources()).isEqualTo(1);
      assertThat(job.attempts().stream().filter(Attempt::isLive)).hasSize(1);
      assertThat(job.attempts().stream().filter(a -> a.outcome() == AttemptOutcome.CANCELLED)).hasSize(2)
          .allSatisfy(a -> assertThat(a.detail()).contains("hedge"));
      h.run(Duration.ofHours(2));
      assertThat(done(job).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void tenantQuota_maxConcurrentDevices_holdsAndEveryJobStillFinishes() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.tenant("research", TenantQuota.UNLIMITED.withMaxConcurrentDevices(8)))) {
      int[] devices = {0};
      int[] max = {0};
      h.dispatcher.addListener(e -> {
        if (e instanceof DispatchEvent.AttemptStarted s) {
          devices[0] += s.offer().shape().acceleratorCount();
        } else if (e instanceof DispatchEvent.AttemptEnded x) {
          devices[0] -= x.offer().shape().acceleratorCount();
        }
        max[0] = Math.max(max[0], devices[0]);
      });
      List<JobHandle> jobs = List.of(
          h.dispatcher.submit(job("a", 600).tenant("research").build()),
          h.dispatcher.submit(job("b", 600).tenant("research").build()),
          h.dispatcher.submit(job("c", 600).tenant("research").build()));
      h.run(Duration.ofMinutes(1));
      assertThat(jobs).filteredOn(j -> j.state() == JobState.QUEUED).hasSize(2);
      assertThat(h.dispatcher.usage("research").devicesInUse()).isEqualTo(8);
      h.run(Duration.ofHours(1));
      assertThat(jobs).allSatisfy(j -> assertThat(done(j).state()).isEqualTo(JobState.SUCCEEDED));
      assertThat(max[0]).isEqualTo(8);
    }
  }

  @Test
  void tenantBudget_spent_stopsNewPlacements() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.tenant("lab", TenantQuota.UNLIMITED.withBudget(Money.usd("50"))))) {
      JobHandle first = h.dispatcher.submit(job("first", 3600).tenant("lab").build());
      h.run(Duration.ofHours(2));
      assertThat(done(first).cost()).isGreaterThan(Money.usd("50"));
      JobHandle second = h.dispatcher.submit(job("second", 60).tenant("lab").build());
      h.run(Duration.ofHours(1));
      assertThat(second.state()).isEqualTo(JobState.QUEUED);
      assertThat(second.attempts()).isEmpty();
      assertThat(h.dispatcher.usage("lab").spent()).isGreaterThan(Money.usd("50"));
    }
  }

  @Test
  void fairShare_twoTenantsWithEqualWeight_alternateOnScarceCapacity() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      // One machine's worth of capacity in every zone, so jobs run one zone at a time.
      for (String z : List.of("r1-a", "r1-b", "r2-c")) {
        h.cloud.setCapacity(z, CloudModel.ANY, 0);
      }
      h.cloud.setCapacity("r1-a", CloudModel.ANY, 8);
      List<JobHandle> a = new java.util.ArrayList<>();
      List<JobHandle> b = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        a.add(h.dispatcher.submit(job("a" + i, 600).tenant("alice").build()));
      }
      for (int i = 0; i < 4; i++) {
        b.add(h.dispatcher.submit(job("b" + i, 600).tenant("bob").build()));
      }
      h.run(Duration.ofHours(8));
      List<String> order = h.events.events(DispatchEvent.JobStateChanged.class).stream()
          .filter(e -> e.to() == JobState.RUNNING)
          .map(e -> h.dispatcher.job(e.jobId()).orElseThrow().spec().tenant())
          .toList();
      assertThat(order).hasSize(8);
      // Alice submitted first, but Bob's first job starts before Alice's third.
      assertThat(order.subList(0, 3)).contains("bob");
      assertThat(order).containsSubsequence("alice", "bob", "alice", "bob");
    }
  }

  @Test
  void priority_higherPriorityJobGoesFirst() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.tenant("t", TenantQuota.UNLIMITED.withMaxConcurrentDevices(8)))) {
      JobHandle running = h.dispatcher.submit(job("running", 600).tenant("t").build());
      h.run(Duration.ofSeconds(5));
      JobHandle low = h.dispatcher.submit(job("low", 600).tenant("t").build());
      JobHandle high = h.dispatcher.submit(job("high", 600).tenant("t").priority(10).build());
      h.run(Duration.ofMinutes(12));
      assertThat(done(running).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(high.state()).isIn(JobState.RUNNING, JobState.PROVISIONING, JobState.SUCCEEDED);
      assertThat(low.state()).isEqualTo(JobState.QUEUED);
    }
  }

  @Test
  void submit_noWiredOfferFits_failsAtOnceSayingWhy() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      assertThatThrownBy(() -> h.dispatcher.submit(job("tpu", 60).accelerators(Shapes.tpuV5e(8)).build()))
          .isInstanceOf(NoFeasibleOfferException.class)
          .hasMessageContaining("tpu-v5e x8");
      assertThatThrownBy(() -> h.dispatcher.submit(job("cheap", 60).maxHourlyPriceUsd(10).build()))
          .isInstanceOf(NoFeasibleOfferException.class)
          .hasMessageContaining("above maxHourlyPrice");
      assertThatThrownBy(() -> h.dispatcher.submit(job("elsewhere", 60).providers("azure").build()))
          .isInstanceOf(NoFeasibleOfferException.class)
          .hasMessageContaining("not in providers [azure]");
      assertThat(h.provider.provisionCalls()).isZero();
    }
  }

  @Test
  void submit_overMaxQueuedJobs_isRejectedWithoutBlocking() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.maxQueuedJobs(2))) {
      h.dispatcher.submit(job("a", 60).build());
      h.dispatcher.submit(job("b", 60).build());
      assertThatThrownBy(() -> h.dispatcher.submit(job("c", 60).build()))
          .isInstanceOf(QueueFullException.class)
          .hasMessageContaining("2 unfinished jobs");
      h.run(Duration.ofMinutes(10));
      assertThat(h.dispatcher.submit(job("d", 60).build())).isNotNull();
    }
  }

  @Test
  void plan_ranksCheapestFirstWithReasons_andProvisionsNothing() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      Plan plan = h.dispatcher.plan(job("train", 7200).spot(SpotPolicy.PREFER).build());
      assertThat(plan.ranked()).hasSize(6);
      assertThat(plan.ranked().get(0).offer().zone()).isEqualTo("r1-a");
      assertThat(plan.ranked().get(0).spot()).isTrue();
      assertThat(plan.ranked().get(0).reason()).contains("spot preferred");
      assertThat(plan.ranked().get(3).spot()).isFalse();
      assertThat(plan.ranked().get(3).estimatedCost()).isEqualTo(Money.usd("160"));
      assertThat(plan.toString()).contains("#1 fake/r1-a/h100x8 (spot)");
      assertThat(h.provider.provisionCalls()).isZero();
    }
  }

  @Test
  void plan_afterAStockout_showsTheBlockedOfferAsExcluded() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.stockout("r1-a", CloudModel.ANY, Duration.ofHours(1));
      h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofSeconds(10));
      Plan plan = h.dispatcher.plan(job("next", 60).build());
      assertThat(plan.ranked()).extracting(p -> p.offer().zone()).doesNotContain("r1-a");
      assertThat(plan.excluded()).anySatisfy(e -> assertThat(e).contains("r1-a").contains("capacity"));
    }
  }

  @Test
  void timeout_failsTheJobAndReleases() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("long", 7200).timeout(Duration.ofMinutes(30)).build());
      h.run(Duration.ofHours(1));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.FAILED);
      assertThat(r.message()).contains("timed out");
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void pendingTooLong_isTreatedAsAStockoutAndFailsOver() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.pendingTimeout(Duration.ofMinutes(5)))) {
      h.cloud.setProvisioningTime(Duration.ofHours(3));
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(7));
      assertThat(job.attempts()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(job.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.CAPACITY);
      assertThat(job.attempts().get(0).detail()).contains("PENDING_TIMEOUT");
      assertThat(h.provider.liveResources()).isEqualTo(1);
    }
  }

  @Test
  void maxTotalCost_reached_stopsTheRunningJob() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      // Estimated at 30 min ($40 at $80/h) but it really runs 3 h.
      JobHandle job = h.dispatcher.submit(
          job("over", 3 * 3600).referenceRunTime(H100X8, Duration.ofMinutes(30)).maxTotalCostUsd(60).build());
      h.run(Duration.ofHours(2));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.FAILED);
      assertThat(r.message()).contains("maxTotalCost");
      assertThat(r.cost()).isLessThan(Money.usd("62"));
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void lostCreateResponse_isRetriedAndAdoptsTheOneResource() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(5));
      assertThat(done(job).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(job.attempts()).hasSize(1);
      assertThat(h.cloud.allocations()).isEqualTo(1);
    }
  }

  @Test
  void workloadExitsNonZero_failsTheJobWithItsExitCode() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("bad", 60).env("FAKE_EXIT_CODE", "3").build());
      h.run(Duration.ofMinutes(5));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.FAILED);
      assertThat(r.exitCode()).isEqualTo(3);
      assertThat(r.message()).contains("exit code 3");
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void listenerThatThrows_neverBreaksDispatch() {
    try (EngineHarness h = EngineHarness.threeZones(b -> b.listener(e -> {
      throw new IllegalStateException("listener bug");
    }))) {
      JobHandle job = h.dispatcher.submit(job("train", 60).build());
      h.run(Duration.ofMinutes(5));
      assertThat(done(job).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(h.events.events(DispatchEvent.JobStateChanged.class)).isNotEmpty();
    }
  }

  @Test
  void reconciler_releasesResourcesOfThisFleetThatNoJobOwns() {
    ManualSetup s = new ManualSetup();
    try (EngineHarness h = s.harness()) {
      h.run(Duration.ofSeconds(1));
      assertThat(h.cloud.find("ad-jorphan0000000-a1")).isEmpty();
      assertThat(h.events.events(DispatchEvent.OrphanReleased.class)).singleElement()
          .satisfies(o -> assertThat(o.resourceName()).isEqualTo("ad-jorphan0000000-a1"));
      assertThat(h.cloud.find("ad-jother00000000-a1")).as("another fleet's resource").isPresent();
    }
  }

  @Test
  void close_withInMemoryStore_cancelsJobsAndReleasesEverything() {
    EngineHarness h = EngineHarness.threeZones(b -> {});
    JobHandle job = h.dispatcher.submit(job("train", 3600).build());
    h.run(Duration.ofMinutes(5));
    assertThat(h.provider.liveResources()).isEqualTo(1);
    h.dispatcher.close();
    h.run(Duration.ofMinutes(1));
    assertThat(done(job).state()).isEqualTo(JobState.CANCELLED);
    assertThat(h.provider.liveResources()).isZero();
    assertThatThrownBy(() -> h.dispatcher.submit(job("late", 60).build()))
        .isInstanceOf(dev.acceldispatch.DispatcherClosedException.class);
  }

  /** Puts leftovers in the cloud before the dispatcher starts. */
  private static final class ManualSetup {
    EngineHarness harness() {
      return new EngineHarness(
          p -> {
            p.offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0);
            var cloud = p.build().cloud();
            cloud.allocate(new dev.acceldispatch.testkit.cloud.AllocationRequest(
                "ad-jorphan0000000-a1", "r1", "r1-a", "nvidia-h100-80gb", 8, false, List.of()),
                java.util.Map.of("provider", "fake", ProvisionRequest.LABEL_FLEET, "default"));
            cloud.allocate(new dev.acceldispatch.testkit.cloud.AllocationRequest(
                "ad-jother00000000-a1", "r1", "r1-a", "nvidia-h100-80gb", 8, false, List.of()),
                java.util.Map.of("provider", "fake", ProvisionRequest.LABEL_FLEET, "someone-else"));
          },
          b -> {});
    }
  }
}
