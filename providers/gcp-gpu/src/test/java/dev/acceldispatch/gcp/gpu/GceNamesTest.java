package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GceNamesTest {

  @Test
  void labels_ownershipClashesWithExtra_ownershipWins() {
    Map<String, String> out = GceNames.labels(Map.of("accel-dispatch-fleet", "f1"), Map.of("ACCEL-DISPATCH-FLEET", "forged"));

    assertThat(out).containsExactly(Map.entry("accel-dispatch-fleet", "f1"));
  }

  @Test
  void labels_moreThanSixtyFour_keepsOwnershipAndCapsTheRest() {
    Map<String, String> extra = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      extra.put("label" + i, "v");
    }

    Map<String, String> out = GceNames.labels(Map.of("accel-dispatch-job", "j-1", "accel-dispatch-attempt", "3"), extra);

    assertThat(out).hasSize(GceNames.MAX_LABELS).containsEntry("accel-dispatch-job", "j-1").containsEntry("accel-dispatch-attempt", "3");
  }

  @Test
  void labelKey_emptyOrStartingWithDigitOrUnderscore_getsALetterInFront() {
    assertThat(GceNames.labelKey("")).isEqualTo("k");
    assertThat(GceNames.labelKey("1st")).isEqualTo("k1st");
    assertThat(GceNames.labelKey("_x")).isEqualTo("k_x");
    assertThat(GceNames.labelKey("Cost.Center/ID")).isEqualTo("cost_center_id");
  }

  @Test
  void labelValue_readableIdsPassUnchanged_hostileTextIsCleaned() {
    assertThat(GceNames.labelValue("ct1a2b3c-7")).isEqualTo("ct1a2b3c-7");
    assertThat(GceNames.labelValue("$(rm -rf /)")).isEqualTo("__rm_-rf___");
    assertThat(GceNames.labelValue("x".repeat(100))).hasSize(63);
    assertThat(GceNames.labelValue("")).isEmpty();
  }

  @Test
  void isValidInstanceName_followsGceRules() {
    assertThat(GceNames.isValidInstanceName("ad-job1-a1")).isTrue();
    assertThat(GceNames.isValidInstanceName("a".repeat(63))).isTrue();
    assertThat(GceNames.isValidInstanceName("a".repeat(64))).isFalse();
    assertThat(GceNames.isValidInstanceName("1abc")).isFalse();
    assertThat(GceNames.isValidInstanceName("abc-")).isFalse();
    assertThat(GceNames.isValidInstanceName("Abc")).isFalse();
  }
}
