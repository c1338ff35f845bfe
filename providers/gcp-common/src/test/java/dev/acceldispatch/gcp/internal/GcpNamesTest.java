package dev.acceldispatch.gcp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GcpNamesTest {
  private static final String KEY = "[a-z][a-z0-9_-]{0,62}";
  private static final String VALUE = "[a-z0-9_-]{0,63}";
  private static final Map<String, String> OWNERSHIP =
      Map.of("accel-dispatch-fleet", "prod-eu", "accel-dispatch-job", "j-42", "accel-dispatch-attempt", "3");

  @Test
  void labels_anyStrings_giveValidGcpLabelsAndKeepOwnershipReadable() {
    Random random = new Random(7);
    String alphabet = "aZ09_-. /$`'\"\n\tüñ日✓😀";
    for (int round = 0; round < 500; round++) {
      Map<String, String> extra = new HashMap<>();
      for (int i = 0; i < random.nextInt(80); i++) {
        extra.put(randomString(random, alphabet, 100), randomString(random, alphabet, 100));
      }
      Map<String, String> out = GcpNames.labels(OWNERSHIP, extra);
      assertThat(out.size()).isLessThanOrEqualTo(GcpNames.MAX_LABELS);
      assertThat(out).containsAllEntriesOf(OWNERSHIP);
      out.forEach((k, v) -> {
        assertThat(k).matches(KEY);
        assertThat(v).matches(VALUE);
      });
    }
  }

  @Test
  void labels_ownershipClashesWithExtra_ownershipWins() {
    Map<String, String> out = GcpNames.labels(Map.of("accel-dispatch-fleet", "f1"), Map.of("ACCEL-DISPATCH-FLEET", "forged"));

    assertThat(out).containsExactly(Map.entry("accel-dispatch-fleet", "f1"));
  }

  @Test
  void labels_moreThanSixtyFour_keepsOwnershipAndCapsTheRest() {
    Map<String, String> extra = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      extra.put("label" + i, "v");
    }

    Map<String, String> out = GcpNames.labels(Map.of("accel-dispatch-job", "j-1", "accel-dispatch-attempt", "3"), extra);

    assertThat(out).hasSize(GcpNames.MAX_LABELS).containsEntry("accel-dispatch-job", "j-1").containsEntry("accel-dispatch-attempt", "3");
  }

  /** Regression: the TPU provider made {@code team-name} of this key and the GPU provider {@code team_name}. */
  @Test
  void labelKey_dottedKey_isTheOneSpellingEveryGoogleProviderUses() {
    assertThat(GcpNames.labels(Map.of(), Map.of("team.name", "ML Infra"))).containsExactly(Map.entry("team_name", "ml_infra"));
  }

  @Test
  void labelKey_emptyOrStartingWithDigitOrUnderscore_getsALetterInFront() {
    assertThat(GcpNames.labelKey("")).isEqualTo("k");
    assertThat(GcpNames.labelKey("1st")).isEqualTo("k1st");
    assertThat(GcpNames.labelKey("_x")).isEqualTo("k_x");
    assertThat(GcpNames.labelKey("Cost.Center/ID")).isEqualTo("cost_center_id");
  }

  @Test
  void labelValue_readableIdsPassUnchanged_hostileTextIsCleaned() {
    assertThat(GcpNames.labelValue("ct1a2b3c-7")).isEqualTo("ct1a2b3c-7");
    assertThat(GcpNames.labelValue("$(rm -rf /)")).isEqualTo("__rm_-rf___");
    assertThat(GcpNames.labelValue("x".repeat(100))).hasSize(63);
    assertThat(GcpNames.labelValue(null)).isEmpty();
  }

  @Test
  void isValidResourceName_followsGoogleRules() {
    assertThat(GcpNames.isValidResourceName("ad-job1-a1")).isTrue();
    assertThat(GcpNames.isValidResourceName("a".repeat(63))).isTrue();
    assertThat(GcpNames.isValidResourceName("a".repeat(64))).isFalse();
    assertThat(GcpNames.isValidResourceName("1abc")).isFalse();
    assertThat(GcpNames.isValidResourceName("abc-")).isFalse();
    assertThat(GcpNames.isValidResourceName("Abc")).isFalse();
  }

  private static String randomString(Random random, String alphabet, int max) {
    StringBuilder b = new StringBuilder();
    int n = random.nextInt(max);
    int[] cps = alphabet.codePoints().toArray();
    for (int i = 0; i < n; i++) {
      b.appendCodePoint(cps[random.nextInt(cps.length)]);
    }
    return b.toString();
  }
}
