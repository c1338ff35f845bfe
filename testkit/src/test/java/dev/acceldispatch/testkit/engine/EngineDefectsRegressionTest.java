package dev.acceldispatch.testkit.engine;

import static dev.acceldispatch.testkit.engine.EngineHarness.H100X8;
import static dev.acceldispatch.testkit.engine.EngineHarness.job;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for the engine's defects found by trying it as a third-party provider author
 * would (issue 13), each named after what broke. Each failed on the engine before the fix.
 */
class EngineDefectsRegressionTest {

  private static JobResult done(JobHandle h) {
    assertThat(h.result()).as("result of %s", h).isCompleted();
    return h.result().join();
  }

  /** A dispatcher in virtual time over a provider made from the fake by {@code wrap}. */
  private static final class Wrapped implements AutoCloseable {
    final ManualScheduler scheduler = new ManualScheduler();
    final CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7);
    final RecordingListener events = new RecordingListener();
    final FakeProvider fake = FakeProvider.builder("fake", cloud)
        .offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0)
        .offer("r1", "r1-b", H100X8, "h100x8", 85, 17.0)
        .build();
    final Dispatcher dispatcher;

    /** {@code wrap} gets the fake provider and the scheduler. */
    Wrapped(java.util.function.BiFunction<FakeProvider, ManualScheduler, ForwardingProvider> wrap) {
      dispatcher = Dispatcher.builder().provider(wrap.apply(fake, scheduler)).scheduler(scheduler).providerExecutor(Runnable::run)
          .pollInterval(Duration.ofSeconds(1), Duration.ofSeconds(10)).listener(events).build();
    }

    @Override
    public void close() {
      dispatcher.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
  }

  @Test
  void capacityOneOffer_nextJobStalledForCapacityBlock_becauseTheSlotWasFreedBeforeTheReleaseCompleted() {
    Offer oneSlot = new Offer("fake", "r1", "r1-a", H100X8, "h100x8", Money.usd(80), null, 1);
    try (EngineHarness h = new EngineHarness(p -> p.offer(oneSlot), b -> {})) {
      // The first job's release fails, retries included, then succeeds 30 s later in the background.
      h.cloud.injectFault("fake.release", Fault.of(Fault.Kind.UNAVAILABLE), 5);
      JobHandle first = h.dispatcher.submit(job("first", 60).build());
      JobHandle second = h.dispatcher.submit(job("second", 60).build());
      h.run(Duration.ofSeconds(70));

      assertThat(first.state()).isEqualTo(JobState.SUCCEEDED);
      // Its machine is still held: the one slot is taken, so no create for the second yet.
      assertThat(h.provider.provisionCalls()).isEqualTo(1);
      assertThat(second.state()).isEqualTo(JobState.QUEUED);

      h.run(Duration.ofMinutes(3));
      JobResult r = done(second);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void createResponseLostAndReleaseRefused_jobRanOnTwoMachinesAtOnce() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      // The create takes effect but its answer is lost, and the retries (same name) fail: a
      // failed start whose machine exists. Its release is refused for a while.
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
      h.cloud.injectFault("fake.provision", Fault.of(Fault.Kind.UNAVAILABLE), 4);
      h.cloud.injectFault("fake.release", Fault.of(Fault.Kind.UNAVAILABLE), 10);
      JobHandle job = h.dispatcher.submit(job("once", 600).build());
      int mostAtOnce = 0;
      for (int i = 0; i < 180; i++) {
        h.run(Duration.ofSeconds(10));
        mostAtOnce = Math.max(mostAtOnce, h.cloud.liveResources());
      }

      assertThat(mostAtOnce).as("machines of the job alive at once").isEqualTo(1);
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).hasSize(2);
      // The second attempt started only after the first one's machine was released.
      Instant released = h.events.events(DispatchEvent.ResourceReleased.class).stream()
          .filter(e -> e.resourceName().equals(r.attempts().get(0).resourceName())).findFirst().orElseThrow().at();
      assertThat(r.attempts().get(1).startedAt()).isAfterOrEqualTo(released);
      assertThat(h.provider.liveResources()).isZero();
    }
  }

  @Test
  void statusReturningNull_wedgedTheJobForGood() {
    try (Wrapped w = new Wrapped((fake, scheduler) -> new ForwardingProvider(fake) {
      @Override
      public ResourceStatus status(ProvisionedResource resource) {
        return resource.zone().equals("r1-a") ? null : fake.status(resource);
      }
    })) {
      JobHandle job = w.dispatcher.submit(job("null-status", 60).build());
      w.scheduler.advance(Duration.ofMinutes(10));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r1-b");
      assertThat(r.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.FAILED);
      assertThat(r.attempts().get(0).detail()).contains("null");
      assertThat(w.fake.liveResources()).isZero();
    }
  }

  @Test
  void provisionReturningNull_leftTheAttemptProvisioningForever() {
    try (Wrapped w = new Wrapped((fake, scheduler) -> new ForwardingProvider(fake) {
      @Override
      public ProvisionedResource provision(ProvisionRequest request) {
        ProvisionedResource made = fake.provision(request);
        return request.offer().zone().equals("r1-a") ? null : made;
      }
    })) {
      JobHandle job = w.dispatcher.submit(job("null-create", 60).build());
      w.scheduler.advance(Duration.ofMinutes(10));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r1-b");
      // What the null-returning create made was released by its name.
      assertThat(w.fake.liveResources()).isZero();
    }
  }

  @Test
  void statusThrowingAnUndeclaredException_wasPolledForever() {
    try (Wrapped w = new Wrapped((fake, scheduler) -> new ForwardingProvider(fake) {
      @Override
      public ResourceStatus status(ProvisionedResource resource) {
        ResourceStatus st = fake.status(resource);
        if (resource.zone().equals("r1-a") && st.phase() == ResourceStatus.Phase.RUNNING) {
          throw new IllegalStateException("SDK bug");
        }
        return st;
      }
    })) {
      JobHandle job = w.dispatcher.submit(job("broken-status", 300).build());
      w.scheduler.advance(Duration.ofMinutes(30));

      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(r.attempts()).extracting(a -> a.offer().zone()).containsExactly("r1-a", "r1-b");
      assertThat(w.fake.liveResources()).isZero();
    }
  }

  @Test
  void firstPassAfterAFreshStockout_sentACreatePerJobAndOffer() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      h.cloud.stockout(CloudModel.ANY, CloudModel.ANY, Duration.ofHours(1));
      List<JobHandle> jobs = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        jobs.add(h.dispatcher.submit(job("herd-" + i, 60).build()));
      }
      h.run(Duration.ofSeconds(1));

      // One create probes each of the three offers, not five jobs times three offers.
      assertThat(h.cloud.calls("fake.provision")).hasSize(3);
      assertThat(h.cloud.calls("fake.provision")).extracting(CloudModel.Call::target).doesNotHaveDuplicates();
      h.run(Duration.ofHours(2));
      assertThat(jobs).allSatisfy(j -> assertThat(done(j).state()).isEqualTo(JobState.SUCCEEDED));
    }
  }

  @Test
  void throttledWithRetryAfter_otherJobsKeptPollingTheSameProvider() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle a = h.dispatcher.submit(job("a", 3600).build());
      JobHandle b = h.dispatcher.submit(job("b", 3600).build());
      h.run(Duration.ofMinutes(5));
      assertThat(List.of(a.state(), b.state())).containsOnly(JobState.RUNNING);
      int before = h.cloud.calls("fake.status").size();
      h.cloud.injectFault("fake.status", Fault.throttled(Duration.ofSeconds(30)), 1);
      h.run(Duration.ofMinutes(2));

      List<Instant> polls = h.cloud.calls("fake.status").stream().skip(before).map(CloudModel.Call::at).toList();
      Instant throttled = polls.get(0);
      // The whole provider is paused for the retry-after: no call of it inside the window.
      assertThat(polls.subList(1, polls.size())).allSatisfy(t -> assertThat(t).isAfterOrEqualTo(throttled.plusSeconds(30)));
      assertThat(polls).hasSizeGreaterThan(2);
      assertThat(List.of(a.state(), b.state())).containsOnly(JobState.RUNNING);
    }
  }

  @Test
  void createLandingAfterTheEngineGaveUpOnIt_isFoundByTheReconcilerAndReleased() {
    // The create's call times out (as after callTimeout) and the engine fails over; the cloud
    // carries the request out two minutes later, after the engine released the (then unused) name.
    try (Wrapped w = new Wrapped((fake, scheduler) -> new ForwardingProvider(fake) {
      @Override
      public ProvisionedResource provision(ProvisionRequest request) {
        if (request.offer().zone().equals("r1-a")) {
          scheduler.schedule(() -> fake.provision(request), Duration.ofMinutes(2));
          throw new ProviderException.Transient("fake", "r1-a", "TIMEOUT", "call took longer than callTimeout", null);
        }
        return fake.provision(request);
      }
    })) {
      JobHandle job = w.dispatcher.submit(job("late", 60).build());
      w.scheduler.advance(Duration.ofMinutes(5));
      JobResult r = done(job);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      String lateName = r.attempts().get(0).resourceName();
      assertThat(w.cloud.find(lateName)).as("the late create landed").isPresent();

      w.scheduler.advance(Duration.ofMinutes(10));

      assertThat(w.events.events(DispatchEvent.OrphanReleased.class)).extracting(DispatchEvent.OrphanReleased::resourceName)
          .containsExactly(lateName);
      assertThat(w.fake.liveResources()).isZero();
    }
  }
}
