package dev.acceldispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AcceleratorShapeTest {
  @Test
  void tpuV5e_everySliceSize_hasItsTopology() {
    Map<Integer, String> expected = Map.of(1, "1x1", 4, "2x2", 8, "2x4", 16, "4x4", 32, "4x8", 64, "8x8", 128, "8x16", 256, "16x16");
    expected.forEach((chips, topo) -> assertThat(Shapes.tpuV5e(chips).topology()).isEqualTo(topo));
    assertThat(Shapes.tpuV5e(8).totalMemoryGib()).isEqualTo(128);
  }

  @Test
  void tpuV5e_wrongTopology_isRejected() {
    assertThatThrownBy(() -> new AcceleratorShape(AcceleratorType.TPU_V5E, 8, "4x2"))
        .hasMessageContaining("topology 2x4, got '4x2'");
  }

  @Test
  void gpu_onlyCountsOfOneTwoFourEight() {
    for (int n : new int[] {1, 2, 4, 8}) {
      assertThat(Shapes.gpu(AcceleratorType.NVIDIA_T4, n).count()).isEqualTo(n);
    }
    for (int n : new int[] {-1, 0, 3, 16}) {
      assertThatThrownBy(() -> Shapes.gpu(AcceleratorType.NVIDIA_T4, n)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> Shapes.gpu(AcceleratorType.TPU_V5E, 8)).hasMessageContaining("not a GPU");
  }

  @Test
  void catalog_hasTheSpecSheetFacts() {
    assertThat(AcceleratorType.of("tpu-v5e").peakBf16Tflops()).isEqualTo(197);
    assertThat(AcceleratorType.of("NVIDIA-H100-80GB").memoryGib()).isEqualTo(80);
    assertThat(AcceleratorType.catalog()).extracting(AcceleratorType::id)
        .contains("tpu-v5e", "nvidia-h100-80gb", "nvidia-a100-80gb", "nvidia-a100-40gb", "nvidia-l4", "nvidia-t4", "cpu");
    assertThatThrownBy(() -> AcceleratorType.of("nvidia-b200")).hasMessageContaining("known: [tpu-v5e");
  }

  @Test
  void referenceRunTime_scalesByTotalThroughput() {
    ReferenceRunTime ref = new ReferenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), Duration.ofHours(2));
    // 8 x 989 TFLOPS against 8 x 197: about 5.02 times as long on a v5e-8 slice.
    assertThat(ref.scaledTo(Shapes.tpuV5e(8)).toMinutes()).isBetween(601L, 603L);
    assertThat(ref.scaledTo(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8))).isEqualTo(Duration.ofHours(2));
  }

  @Test
  void money_accountsExactly() {
    assertThat(Money.usd("10").perHourFor(Duration.ofMinutes(90))).isEqualTo(Money.usd("15"));
    assertThat(Money.usd("1.10").plus(Money.usd("2.20"))).isEqualTo(Money.usd("3.3"));
    assertThat(Money.usd("1").minusOrZero(Money.usd("2"))).isEqualTo(Money.ZERO);
    assertThat(Money.usd("12.345").toString()).isEqualTo("$12.35");
  }

  @Test
  void priceCatalog_defaultsAndOverrides() {
    PriceCatalog.Prices tpu = PriceCatalog.defaults().require("gcp-tpu", "tpu-v5e-chip", "us-central1");
    assertThat(tpu.onDemand()).isEqualTo(Money.usd("1.20"));
    assertThat(PriceCatalog.defaults().find("gcp-tpu", "tpu-v5e-chip", "asia-east1")).isPresent();
    PriceCatalog mine = PriceCatalog.defaults().toBuilder().price("gcp-tpu", "tpu-v5e-chip", "us-central1", Money.usd("1"), null).build();
    assertThat(mine.require("gcp-tpu", "tpu-v5e-chip", "us-central1").spot()).isNull();
    assertThatThrownBy(() -> mine.require("nope", "x", "y")).hasMessageContaining("no price for sku 'x'");
  }
}
