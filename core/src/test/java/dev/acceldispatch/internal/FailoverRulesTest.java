package dev.acceldispatch.internal;

import static dev.acceldispatch.internal.EngineFixtures.H100_A;
import static dev.acceldispatch.internal.EngineFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.spi.ProviderException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FailoverRulesTest {
  private static final Duration QUOTA_BLOCK = Duration.ofMinutes(30);

  private static FailoverRules.Verdict verdict(ProviderException e) {
    return FailoverRules.onFailedStart(e, H100_A, T0, QUOTA_BLOCK);
  }

  @Test
  void onFailedStart_capacity_isACapacityBlockOfTheOffer() {
    FailoverRules.Verdict v = verdict(new ProviderException.CapacityUnavailable("fake", "r1-a", "STOCKOUT", "none", null));
    assertThat(v.outcome()).isEqualTo(AttemptOutcome.CAPACITY);
    assertThat(v.setAside()).isEqualTo(FailoverRules.SetAside.CAPACITY_BLOCK);
    assertThat(v.block()).isNull();
  }

  @Test
  void onFailedStart_quota_blocksTheScopeItNamesForQuotaBlock() {
    for (ProviderException.QuotaExceeded.Scope scope : ProviderException.QuotaExceeded.Scope.values()) {
      FailoverRules.Verdict v = verdict(new ProviderException.QuotaExceeded("fake", "r1-a", scope, "QUOTA", "over", null));
      assertThat(v.outcome()).isEqualTo(AttemptOutcome.QUOTA);
      assertThat(v.block().until()).isEqualTo(T0.plus(QUOTA_BLOCK));
      assertThat(v.block().providerId()).isEqualTo("fake");
      assertThat(v.block().zone()).isEqualTo(scope == ProviderException.QuotaExceeded.Scope.ZONE ? "r1-a" : null);
      assertThat(v.block().region()).isEqualTo(scope == ProviderException.QuotaExceeded.Scope.REGION ? "r1" : null);
      assertThat(v.block().shape()).isNull();
    }
  }

  @Test
  void onFailedStart_permissionDenied_setsTheWholeProviderAsideForQuotaBlock() {
    FailoverRules.Verdict v = verdict(new ProviderException.PermissionDenied("fake", "r1-a", false, "DENIED", "no", null));
    assertThat(v.outcome()).isEqualTo(AttemptOutcome.FAILED);
    assertThat(v.block()).extracting(OfferHealth.Block::providerId, OfferHealth.Block::region, OfferHealth.Block::zone)
        .containsExactly("fake", null, null);
    assertThat(v.block().until()).isEqualTo(T0.plus(QUOTA_BLOCK));
  }

  @Test
  void onFailedStart_invalidRequest_excludesTheOfferForTheJob() {
    FailoverRules.Verdict v = verdict(new ProviderException.InvalidRequest("fake", "r1-a", "BAD", "bad", null));
    assertThat(v.setAside()).isEqualTo(FailoverRules.SetAside.EXCLUDE_OFFER);
    assertThat(v.block()).isNull();
  }

  @Test
  void onFailedStart_transientOrThrottled_blocksTheZoneAndShapeBriefly() {
    for (ProviderException e : new ProviderException[] {
        new ProviderException.Transient("fake", "r1-a", "UNAVAILABLE", "503", null),
        new ProviderException.Throttled("fake", "r1-a", Duration.ofSeconds(5), "429", "slow down", null)}) {
      FailoverRules.Verdict v = verdict(e);
      assertThat(v.outcome()).isEqualTo(AttemptOutcome.FAILED);
      assertThat(v.block().zone()).isEqualTo("r1-a");
      assertThat(v.block().shape()).isEqualTo(H100_A.shape());
      assertThat(v.block().until()).isEqualTo(T0.plus(FailoverRules.TRANSIENT_BLOCK));
    }
  }

  @Test
  void statusErrorEndsStart_onlyForCapacityAndQuota() {
    assertThat(FailoverRules.statusErrorEndsStart(new ProviderException.CapacityUnavailable("fake", "z", "c", "m", null))).isTrue();
    assertThat(FailoverRules.statusErrorEndsStart(
        new ProviderException.QuotaExceeded("fake", "z", ProviderException.QuotaExceeded.Scope.ZONE, "c", "m", null))).isTrue();
    assertThat(FailoverRules.statusErrorEndsStart(new ProviderException.Transient("fake", "z", "c", "m", null))).isFalse();
  }

  @Test
  void mayHaveMadeAMachine_ambiguousErrorOrAcceptedCreate_yes_definiteRefusal_no() {
    ProviderException transientError = new ProviderException.Transient("fake", "z", "UNAVAILABLE", "503", null);
    ProviderException capacity = new ProviderException.CapacityUnavailable("fake", "z", "STOCKOUT", "none", null);
    assertThat(FailoverRules.mayHaveMadeAMachine(transientError, false)).isTrue();
    assertThat(FailoverRules.mayHaveMadeAMachine(
        new ProviderException.Throttled("fake", "z", null, "429", "slow", null), false)).isTrue();
    assertThat(FailoverRules.mayHaveMadeAMachine(capacity, false)).isFalse();
    assertThat(FailoverRules.mayHaveMadeAMachine(capacity, true)).isTrue();
    assertThat(FailoverRules.mayHaveMadeAMachine(new ProviderException.InvalidRequest("fake", "z", "BAD", "bad", null), false)).isFalse();
  }
}
