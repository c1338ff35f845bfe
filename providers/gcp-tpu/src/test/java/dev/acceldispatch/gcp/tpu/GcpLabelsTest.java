package dev.acceldispatch.gcp.tpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GcpLabelsTest {
  private static final String KEY = "[a-z][a-z0-9_-]{0,62}";
  private static final String VALUE = "[a-z0-9_-]{0,63}";
  private static final Map<String, String> OWNERSHIP =
      Map.of("accel-dispatch-fleet", "prod-eu", "accel-dispatch-job", "j-42", "accel-dispatch-attempt", "3");

  @Test
  void sanitize_anyStrings_giveValidGcpLabelsAndKeepOwnershipReadable() {
    Random random = new Random(7);
    String alphabet = "aZ09_-. /$`'\"\n\tüñ日✓😀";
    for (int round = 0; round < 500; round++) {
      Map<String, String> extra = new HashMap<>();
      for (int i = 0; i < random.nextInt(80); i++) {
        extra.put(randomString(random, alphabet, 100), randomString(random, alphabet, 100));
      }
      Map<String, String> out = GcpLabels.sanitize(OWNERSHIP, extra);
      assertThat(out.size()).isLessThanOrEqualTo(GcpLabels.MAX_LABELS);
      assertThat(out).containsAllEntriesOf(OWNERSHIP);
      out.forEach((k, v) -> {
        assertThat(k).matches(KEY);
        assertThat(v).matches(VALUE);
      });
    }
  }

  @Test
  void sanitize_ownershipKeyInExtraLabels_cannotOverrideOwnership() {
    Map<String, String> out = GcpLabels.sanitize(OWNERSHIP, Map.of("Accel-Dispatch-Job", "spoof"));
    assertThat(out).containsEntry("accel-dispatch-job", "j-42");
  }

  @Test
  void key_digitFirstOrSymbolsOnly_isPrefixedOrDropped() {
    assertThat(GcpLabels.key("9lives")).isEqualTo("l-9lives");
    assertThat(GcpLabels.key("Team Name")).isEqualTo("team-name");
    assertThat(GcpLabels.key("")).isNull();
    assertThat(GcpLabels.key("!!!")).isNull();
  }

  @Test
  void value_tooLong_isCutTo63() {
    assertThat(GcpLabels.value("x".repeat(100))).hasSize(63);
    assertThat(GcpLabels.value(null)).isEmpty();
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
