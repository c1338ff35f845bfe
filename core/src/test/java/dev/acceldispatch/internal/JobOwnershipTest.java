package dev.acceldispatch.internal;

import static dev.acceldispatch.internal.EngineFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.LeasingJobStore;
import dev.acceldispatch.testing.ManualScheduler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobOwnershipTest {
  private final ManualScheduler scheduler = new ManualScheduler();
  private final EngineContext ctx = new EngineContext(
      EngineConfig.builder().leaseDuration(Duration.ofMinutes(1)).build(), scheduler, Map.of(), null, null, null);

  private static JobRecord record(String id) {
    return new JobRecord(id, EngineFixtures.spec(id), JobState.QUEUED, 0, T0, T0, List.of(), 0, "queued", null, Map.of());
  }

  @Test
  void of_plainStore_isTheSingleOwner_leasingStore_isLeased() {
    assertThat(JobOwnership.of(new InMemoryJobStore(), ctx, "me")).isInstanceOf(JobOwnership.SingleOwner.class);
    assertThat(JobOwnership.of(InMemoryJobStore.withLeases(), ctx, "me")).isInstanceOf(JobOwnership.Leased.class);
  }

  @Test
  void leased_insertLeasesTheJobToThisInstance_handBackGivesItBackAtOnce() {
    LeasingJobStore store = (LeasingJobStore) InMemoryJobStore.withLeases();
    JobOwnership owner = JobOwnership.of(store, ctx, "me");
    owner.insert(record("j1"), scheduler.now());
    assertThat(store.acquireLeases("other", scheduler.now(), Duration.ofMinutes(1), 10)).isEmpty();

    JobRun live = JobRun.fromRecord(ctx, record("j1"), 1);
    owner.handBack(List.of(live));

    assertThat(store.acquireLeases("other", scheduler.now(), Duration.ofMinutes(1), 10)).extracting(JobRecord::id)
        .containsExactly("j1");
    assertThat(owner.othersMayOwn()).isTrue();
  }

  @Test
  void singleOwner_othersMayOwnOnlyWhatADurableStoreKeeps_andCancelsThroughNobody() {
    JobOwnership owner = JobOwnership.of(new InMemoryJobStore(), ctx, "me");
    owner.insert(record("j1"), scheduler.now());

    assertThat(owner.store().find("j1")).isPresent();
    assertThat(owner.othersMayOwn()).isFalse();
    assertThat(owner.requestCancel("j1")).isFalse();
  }

  @Test
  void singleOwnerStart_jobSubmittedBeforeStartRan_wasLoggedAsRecoveredFromTheStore() {
    JobOwnership.SingleOwner owner = (JobOwnership.SingleOwner) JobOwnership.of(new InMemoryJobStore(), ctx, "me");
    // Submitted to this engine before its first task ran: known to it, and in the store.
    owner.insert(record("mine"), scheduler.now());
    ctx.jobs.put("mine", JobRun.fromRecord(ctx, record("mine"), 1));
    // Left by an earlier engine on the same store.
    owner.store().insert(record("left"));

    assertThat(owner.toRecover()).extracting(JobRecord::id).containsExactly("left");
    ctx.jobs.clear();
  }
}
