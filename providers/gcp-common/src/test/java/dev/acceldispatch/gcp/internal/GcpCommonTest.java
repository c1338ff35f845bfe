package dev.acceldispatch.gcp.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GcpCommonTest {

  @Test
  void region_zoneName_dropsTheZoneLetter() {
    assertThat(GcpZones.region("us-west4-a")).isEqualTo("us-west4");
    assertThat(GcpZones.region("europe-west4-b")).isEqualTo("europe-west4");
  }

  @Test
  void requireZone_regionOrJunk_isRefusedNamingTheField() {
    assertThatThrownBy(() -> GcpZones.requireZone("us-west4")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("zones").hasMessageContaining("us-west4-a");
    assertThatThrownBy(() -> GcpZones.requireZone(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stable_sameInputs_sameNonZeroUuid_otherNameOtherUuid() {
    String a = RequestIds.stable("create", "p", "us-west4-a", "n1");
    assertThat(RequestIds.stable("create", "p", "us-west4-a", "n1")).isEqualTo(a);
    assertThat(RequestIds.stable("create", "p", "us-west4-a", "n2")).isNotEqualTo(a);
    assertThat(a).matches("[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}");
    assertThat(RequestIds.fresh()).isNotEqualTo(RequestIds.fresh());
  }

  @Test
  void command_putsTheExitCodeWithTheMetadataFlavorHeaderToTheGuestAttribute() {
    assertThat(ExitReporter.command())
        .contains("-X PUT --data \"$rc\"")
        .contains("-H 'Metadata-Flavor: Google'")
        .endsWith("'http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/accel-dispatch/exit-code'");
  }
}
