package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProvisionRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The local provider's one label-sanitising function. */
class LocalLabelsTest {
  private static final Offer CPU = new Offer("local", "local", "local-h", Shapes.cpu(), "cpu", Money.ZERO, null, 1);

  private static ProvisionRequest request(Map<String, String> labels) {
    return new ProvisionRequest("ad-job-7-a2", "fleet-1", "job-7", 2, CPU, false,
        Workload.script("exit 0").build(), labels, null);
  }

  @Test
  void of_ownershipLabels_stayReadableAndWinOverJobLabels() {
    Map<String, String> labels = LocalLabels.of(request(Map.of("accel-dispatch-fleet", "spoofed", "team", "ml")));
    assertThat(labels).containsEntry("accel-dispatch-fleet", "fleet-1")
        .containsEntry("accel-dispatch-job", "job-7")
        .containsEntry("accel-dispatch-attempt", "2")
        .containsEntry("team", "ml");
  }

  @Test
  void of_hostileKeysAndValues_areMadeSafe() {
    Map<String, String> labels = LocalLabels.of(request(Map.of(
        "Cost Center/Name", "a\nb\u0000c\td",
        "--leading", "x".repeat(300),
        "!!!", "dropped")));
    assertThat(labels).containsEntry("cost_center_name", "abcd");
    assertThat(labels.get("leading")).hasSize(LocalLabels.MAX_VALUE);
    assertThat(labels).doesNotContainKey("").doesNotContainKey("!!!");
  }

  @Test
  void key_tooLong_isCut() {
    assertThat(LocalLabels.key("k".repeat(100))).hasSize(LocalLabels.MAX_KEY);
  }
}
