package dev.acceldispatch.testkit.engine;

import static dev.acceldispatch.testkit.engine.EngineHarness.H100X8;
import static dev.acceldispatch.testkit.engine.EngineHarness.job;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobState;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualClock;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Several dispatchers on one leasing store, each on its own scheduler over one clock, so that one
 * can "die" (its scheduler is never run again) while the others carry on.
 */
class SharedStoreScenarioTest {
  private final ManualClock clock = new ManualClock();
  private final CloudModel cloud = CloudModel.create(clock, 3);
  private final FakeProvider provider =
      FakeProvider.builder("fake", cloud)
          .offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0)
          .offer("r1", "r1-b", H100X8, "h100x8", 85, 17.0)
          .build();
  private final InMemoryJobStore store = InMemoryJobStore.withLeases();
  private final List<ManualScheduler> alive = new ArrayList<>();
  private final RecordingListener events = new RecordingListener();

  private Dispatcher start(ManualScheduler s) {
    alive.add(s);
    return Dispatcher.builder()
        .provider(provider)
        .store(store)
        .scheduler(s)
        .providerExecutor(Runnable::run)
        .pollInterval(Duration.ofSeconds(2), Duration.ofSeconds(10))
        .leaseDuration(Duration.ofSeconds(30))
        .listener(events)
        .build();
  }

  /** Steps every live scheduler forward together, one second at a time. */
  private void run(Duration d) {
    Instant end = clock.instant().plus(d);
    while (clock.instant().isBefore(end)) {
      Instant next = clock.instant().plusSeconds(1);
      for (ManualScheduler s : alive) {
        s.advance(Duration.between(clock.instant(), next).isNegative() ? Duration.ZERO : Duration.between(clock.instant(), next));
        s.runDue();
      }
      if (clock.instant().isBefore(next)) {
        clock.setTo(next);
      }
    }
  }

  @Test
  void threeInstances_oneDies_everyJobEndsExactlyOnce() {
    ManualScheduler sa = new ManualScheduler(clock);
    ManualScheduler sb = new ManualScheduler(clock);
    ManualScheduler sc = new ManualScheduler(clock);
    Dispatcher a = start(sa);
    Dispatcher b = start(sb);
    Dispatcher c = start(sc);
    List<JobHandle> jobs = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Dispatcher d = List.of(a, b, c).get(i % 3);
      jobs.add(d.submit(job("j" + i, 300 + i * 7).build()));
    }
    run(Duration.ofMinutes(2));
    assertThat(cloud.liveResources()).isEqualTo(60);

    alive.remove(sa); // a dies: its scheduler never runs again, its leases run out
    run(Duration.ofHours(2));

    List<JobRecord> records = jobs.stream().map(j -> store.find(j.id()).orElseThrow()).toList();
    assertThat(records).allSatisfy(r -> assertThat(r.state()).as(r.id()).isEqualTo(JobState.SUCCEEDED));
    assertThat(records).allSatisfy(r -> assertThat(r.attempts()).as("attempts of %s", r.id()).hasSize(1));
    assertThat(cloud.allocations()).as("one resource per job, never two").isEqualTo(60);
    assertThat(cloud.liveResources()).isZero();
    long succeededTransitions = events.events(DispatchEvent.JobStateChanged.class).stream()
        .filter(e -> e.to() == JobState.SUCCEEDED).count();
    assertThat(succeededTransitions).as("each job reported done once").isEqualTo(60);
    b.close();
    c.close();
  }

  @Test
  void cancel_throughAnotherInstance_reachesTheOwner() {
    ManualScheduler sa = new ManualScheduler(clock);
    ManualScheduler sb = new ManualScheduler(clock);
    Dispatcher a = start(sa);
    Dispatcher b = start(sb);
    JobHandle owned = a.submit(job("long", 3600).build());
    run(Duration.ofMinutes(1));
    assertThat(owned.state()).isEqualTo(JobState.RUNNING);

    JobHandle remote = b.job(owned.id()).orElseThrow();
    assertThat(remote.state()).isEqualTo(JobState.RUNNING);
    assertThat(remote.cancel()).isTrue();
    run(Duration.ofMinutes(1));
    assertThat(owned.state()).isEqualTo(JobState.CANCELLED);
    assertThat(remote.result()).isCompleted();
    assertThat(remote.result().join().state()).isEqualTo(JobState.CANCELLED);
    assertThat(cloud.liveResources()).isZero();
    a.close();
    b.close();
    run(Duration.ofMinutes(1));
  }

  @Test
  void restart_afterACrash_adoptsRunningResourcesInsteadOfCreatingNewOnes() {
    ManualScheduler first = new ManualScheduler(clock);
    Dispatcher a = start(first);
    List<JobHandle> jobs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      jobs.add(a.submit(job("j" + i, 1800).build()));
    }
    run(Duration.ofMinutes(3));
    alive.remove(first); // crash

    Dispatcher again = start(new ManualScheduler(clock));
    run(Duration.ofHours(1));
    assertThat(jobs).allSatisfy(j -> assertThat(store.find(j.id()).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED));
    assertThat(cloud.allocations()).isEqualTo(5);
    assertThat(cloud.liveResources()).isZero();
    again.close();
  }
}
