package dev.acceldispatch.internal;

import static dev.acceldispatch.internal.EngineFixtures.H100_A;
import static dev.acceldispatch.internal.EngineFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Money;
import dev.acceldispatch.spi.ProvisionedResource;
import org.junit.jupiter.api.Test;

class AttemptCostTest {
  private static final ProvisionedResource RES = ProvisionedResource.of("fake", "ad-j1-a1", "r1-a");

  private static Attempt live(boolean spot, java.time.Instant runningAt) {
    return new Attempt(1, H100_A, spot, "ad-j1-a1", RES, T0, runningAt, null, null, Money.ZERO, "");
  }

  @Test
  void of_attemptThatNeverRan_costsNothingHoweverLongItWaited() {
    assertThat(AttemptCost.of(live(false, null), T0.plusSeconds(3600))).isEqualTo(Money.ZERO);
  }

  @Test
  void of_runningAttempt_isPriceTimesTimeSinceItRan() {
    // $36/h for 100 s from T0+60 s
    assertThat(AttemptCost.of(live(false, T0.plusSeconds(60)), T0.plusSeconds(160))).isEqualTo(Money.usd("1.00"));
  }

  @Test
  void of_spotAttempt_usesTheSpotPrice() {
    assertThat(AttemptCost.of(live(true, T0), T0.plusSeconds(300))).isEqualTo(Money.usd("1.00"));
  }

  @Test
  void of_endBeforeRunning_isNothingNotNegative() {
    assertThat(AttemptCost.of(live(false, T0.plusSeconds(10)), T0)).isEqualTo(Money.ZERO);
  }

  @Test
  void of_endedAttempt_isWhatItWasChargedWhenItEnded() {
    Attempt ended = new Attempt(1, H100_A, false, "ad-j1-a1", RES, T0, T0, T0.plusSeconds(100), AttemptOutcome.PREEMPTED,
        Money.usd("1.00"), "");
    assertThat(AttemptCost.of(ended, T0.plusSeconds(9999))).isEqualTo(Money.usd("1.00"));
  }
}
