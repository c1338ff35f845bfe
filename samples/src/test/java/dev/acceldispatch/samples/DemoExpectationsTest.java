package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.event.DispatchEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the demo may exit 0, and when it must not. */
class DemoExpectationsTest {
  private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
  private static final Offer OFFER = Offer.of("gcp-gpu", "us-central1", "us-central1-a",
      Shapes.gpu(AcceleratorType.NVIDIA_T4, 1), "n1-standard-4", Money.usd("0.54"), Money.usd("0.18"));

  private static List<DispatchEvent> allThreeFailures() {
    List<DispatchEvent> events = new ArrayList<>();
    events.add(new DispatchEvent.Failover(T, "j1", 1, OFFER, "capacity", "stockout", T));
    events.add(new DispatchEvent.Failover(T, "j2", 1, OFFER, "quota", "quota", T));
    events.add(new DispatchEvent.AttemptEnded(T, "j3", 1, OFFER, true, AttemptOutcome.PREEMPTED, Money.ZERO, "evicted"));
    return events;
  }

  @Test
  void problems_everyJobSucceededAndEveryFailureSeen_none() {
    assertThat(Demo.problems(Map.of("a", JobState.SUCCEEDED, "b", JobState.SUCCEEDED), allThreeFailures())).isEmpty();
  }

  @Test
  void problems_aJobFailed_namesIt() {
    assertThat(Demo.problems(Map.of("a", JobState.SUCCEEDED, "b", JobState.FAILED), allThreeFailures()))
        .containsExactly("b ended FAILED, expected SUCCEEDED");
  }

  @Test
  void problems_noPreemptionSeen_saysSo() {
    List<DispatchEvent> events = allThreeFailures();
    events.remove(2);

    assertThat(Demo.problems(Map.of("a", JobState.SUCCEEDED), events)).containsExactly("no spot preemption was seen");
  }

  @Test
  void problems_noFailoverSeen_namesBothMissingFailures() {
    List<DispatchEvent> events = allThreeFailures().subList(2, 3);

    assertThat(Demo.problems(Map.of("a", JobState.SUCCEEDED), events)).containsExactly(
        "no failover for the zone stockout was seen", "no failover for the quota error was seen");
  }
}
