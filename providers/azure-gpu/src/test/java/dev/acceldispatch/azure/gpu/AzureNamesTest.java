package dev.acceldispatch.azure.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AzureNamesTest {

  @Test
  void vmName_engineName_isKeptExactly() {
    assertThat(AzureNames.vmName("ad-job7-a12")).isEqualTo("ad-job7-a12");
  }

  @Test
  void vmName_notAnEngineName_isRejected() {
    assertThatThrownBy(() -> AzureNames.vmName("Bad_Name.")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tagName_forbiddenCharacters_becomeUnderscores() {
    assertThat(AzureNames.tagName("a<b>c%d&e\\f?g/h\ni")).isEqualTo("a_b_c_d_e_f_g_h_i");
  }

  @Test
  void tagName_tooLong_isCutTo128WithoutSplittingASurrogatePair() {
    String name = "x".repeat(127) + "😀";
    assertThat(AzureNames.tagName(name)).isEqualTo("x".repeat(127));
    assertThat(AzureNames.tagName("y".repeat(500))).hasSize(128);
  }

  @Test
  void tagValue_controlCharactersAndLength_areMadeSafe() {
    assertThat(AzureNames.tagValue("a\nb\tc")).isEqualTo("a b c");
    assertThat(AzureNames.tagValue("v".repeat(400))).hasSize(256);
    assertThat(AzureNames.tagValue("fleet-1 ünï ✓")).isEqualTo("fleet-1 ünï ✓");
  }

  @Test
  void tags_ownershipValues_stayReadable() {
    Map<String, String> in = new LinkedHashMap<>();
    in.put("accel-dispatch-fleet", "prod-eu");
    in.put("accel-dispatch-job", "j-0042");
    in.put("accel-dispatch-attempt", "3");
    assertThat(AzureNames.tags(in, AzureNames.MAX_TAGS)).isEqualTo(in);
  }

  @Test
  void tags_namesEqualIgnoringCase_keepOneAndAtMostTheGivenCount() {
    Map<String, String> in = new LinkedHashMap<>();
    in.put("Team", "a");
    in.put("team", "b");
    for (int i = 0; i < 60; i++) {
      in.put("k" + i, "v");
    }
    Map<String, String> out = AzureNames.tags(in, 49);
    assertThat(out).hasSize(49).containsEntry("team", "b").doesNotContainKey("Team");
  }

  @Test
  void tags_emptyNameAfterSanitising_isDropped() {
    assertThat(AzureNames.tags(Map.of("  ", "v", "ok", "w"), AzureNames.MAX_TAGS)).containsOnlyKeys("ok");
  }
}
