package dev.acceldispatch.internal;

import static dev.acceldispatch.internal.EngineFixtures.H100_A;
import static dev.acceldispatch.internal.EngineFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.ProvisionedResource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobRunTest {
  private Instant now = T0;
  private final List<JobRun> cancelled = new ArrayList<>();
  private final JobRun.Host host = new JobRun.Host() {
    @Override
    public Instant now() {
      return now;
    }

    @Override
    public boolean cancel(JobRun job) {
      cancelled.add(job);
      return true;
    }
  };

  private JobRun job() {
    return new JobRun(host, "j1", EngineFixtures.spec("train"), JobState.QUEUED, T0, 1);
  }

  @Test
  void startAttempt_numbersAttemptsFromOneAndNamesThemByResourceNames() {
    JobRun job = job();
    Attempt first = job.startAttempt(H100_A, false, T0);
    Attempt second = job.startAttempt(H100_A, true, T0);

    assertThat(first.number()).isEqualTo(1);
    assertThat(second.number()).isEqualTo(2);
    assertThat(second.resourceName()).isEqualTo(ResourceNames.of("j1", 2));
    assertThat(job.liveAttempts()).containsExactly(first, second);
  }

  @Test
  void endAttempt_ranAttempt_chargesAttemptCostAndAddsItToTheClosedCost() {
    JobRun job = job();
    job.startAttempt(H100_A, false, T0);
    job.provisioned(1, ProvisionedResource.of("fake", "ad-j1-a1", "r1-a"));
    job.markRunning(1, T0.plusSeconds(10));

    Attempt ended = job.endAttempt(1, AttemptOutcome.PREEMPTED, "gone", T0.plusSeconds(110));

    assertThat(ended.cost()).isEqualTo(Money.usd("1.00"));
    assertThat(job.closedCost()).isEqualTo(Money.usd("1.00"));
    assertThat(job.everRan()).isTrue();
    assertThat(job.liveAttempts()).isEmpty();
    assertThat(job.attempts()).containsExactly(ended);
  }

  @Test
  void endAttempt_neverRan_costsNothing() {
    JobRun job = job();
    job.startAttempt(H100_A, false, T0);

    Attempt ended = job.endAttempt(1, AttemptOutcome.CAPACITY, "stockout", T0.plusSeconds(600));

    assertThat(ended.cost()).isEqualTo(Money.ZERO);
    assertThat(job.everRan()).isFalse();
  }

  @Test
  void cost_liveRunningAttempt_accruesUntilNow() {
    JobRun job = job();
    job.startAttempt(H100_A, false, T0);
    job.markRunning(1, T0);
    job.publish();
    now = T0.plusSeconds(200);

    assertThat(job.cost()).isEqualTo(Money.usd("2.00"));
  }

  @Test
  void nextPollDelay_growsByHalfUpToTheMaximum_andResets() {
    JobRun job = job();
    Duration initial = Duration.ofSeconds(2);
    Duration max = Duration.ofSeconds(4);

    assertThat(job.nextPollDelay(1, initial, max)).isEqualTo(Duration.ofSeconds(2));
    assertThat(job.nextPollDelay(1, initial, max)).isEqualTo(Duration.ofSeconds(3));
    assertThat(job.nextPollDelay(1, initial, max)).isEqualTo(Duration.ofSeconds(4));
    assertThat(job.nextPollDelay(1, initial, max)).isEqualTo(Duration.ofSeconds(4));
    job.resetPollDelay(1, initial);
    assertThat(job.nextPollDelay(1, initial, max)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void completeIfSettled_waitsForTheEndAndForEveryCallInFlight() {
    JobRun job = job();
    job.provisionSent();
    job.releaseSent();
    job.moveTo(JobState.CANCELLED, "cancelled");
    assertThat(job.completeIfSettled()).isFalse();
    job.provisionReturned();
    assertThat(job.completeIfSettled()).isFalse();
    job.releaseEnded();

    assertThat(job.completeIfSettled()).isTrue();
    assertThat(job.result()).isCompletedWithValueMatching(r -> r.state() == JobState.CANCELLED);
  }

  @Test
  void resultCancelled_asksTheHostToCancelTheJob() {
    JobRun job = job();
    job.result().cancel(false);
    assertThat(cancelled).containsExactly(job);
  }

  @Test
  void fromRecord_restoresAttemptsCostPreemptionsAndWhetherItRan() {
    Attempt ran = new Attempt(1, H100_A, false, "ad-j1-a1", null, T0, T0, T0.plusSeconds(100), AttemptOutcome.PREEMPTED,
        Money.usd("1.00"), "");
    Attempt live = new Attempt(2, H100_A, false, "ad-j1-a2", null, T0.plusSeconds(100), null, null, null, Money.ZERO, "");
    JobRecord r = new JobRecord("j1", EngineFixtures.spec("train"), JobState.PROVISIONING, 7, T0, T0, List.of(ran, live), 1,
        "provisioning", null, java.util.Map.of());

    JobRun job = JobRun.fromRecord(host, r, 3);

    assertThat(job.version()).isEqualTo(7);
    assertThat(job.closedCost()).isEqualTo(Money.usd("1.00"));
    assertThat(job.preemptions()).isEqualTo(1);
    assertThat(job.everRan()).isTrue();
    assertThat(job.isStored()).isTrue();
    assertThat(job.liveAttempts()).containsExactly(live);
    assertThat(job.startAttempt(H100_A, false, T0).number()).isEqualTo(3);
  }
}
