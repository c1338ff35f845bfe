package dev.acceldispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class JobSpecTest {
  private static JobSpec.Builder valid() {
    return JobSpec.builder("finetune-7b")
        .container("us-docker.pkg.dev/p/train:1.4", "python", "train.py", "--epochs=3")
        .accelerators(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8));
  }

  @Test
  void build_tpuV5eTimesThree_isRejectedNamingTheAllowedCounts() {
    assertThatThrownBy(() -> valid().accelerators(Shapes.tpuV5e(3)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("count")
        .hasMessageContaining("1, 4, 8, 16, 32, 64, 128 or 256")
        .hasMessageContaining("got 3");
  }

  @Test
  void build_gpuTimesZero_isRejectedNamingTheAllowedCounts() {
    assertThatThrownBy(() -> Shapes.gpu(AcceleratorType.NVIDIA_L4, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GPU machines have 1, 2, 4 or 8 GPUs, got 0");
  }

  @Test
  void build_negativeOrZeroPrice_isRejectedNamingTheField() {
    assertThatThrownBy(() -> valid().maxHourlyPriceUsd(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxHourlyPrice must be a positive amount of USD, got -1.0");
    assertThatThrownBy(() -> valid().maxTotalCostUsd(0).build())
        .hasMessageContaining("maxTotalCost must be a positive amount");
    assertThatThrownBy(() -> Money.usd("-3")).hasMessageContaining("must be >= 0");
  }

  @Test
  void build_emptyImage_isRejectedNamingTheField() {
    assertThatThrownBy(() -> JobSpec.builder("x").container(" ").accelerators(Shapes.cpu()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workload.image must be a non-empty container image reference");
  }

  @Test
  void build_missingPieces_areNamed() {
    assertThatThrownBy(() -> JobSpec.builder("x").accelerators(Shapes.cpu()).build())
        .isInstanceOf(NullPointerException.class).hasMessageContaining("workload");
    assertThatThrownBy(() -> JobSpec.builder("x").script("true").build())
        .isInstanceOf(NullPointerException.class).hasMessageContaining("accelerators");
    assertThatThrownBy(() -> JobSpec.builder("").script("true").accelerators(Shapes.cpu()).build())
        .hasMessageContaining("name must be 1 to 128 printable characters");
  }

  @Test
  void build_badConstraints_areRejectedWithTheField() {
    assertThatThrownBy(() -> valid().tenant("bad tenant").build()).hasMessageContaining("tenant must be");
    assertThatThrownBy(() -> valid().label("Team", "x").build()).hasMessageContaining("labels key");
    assertThatThrownBy(() -> valid().label("team", "Has Space").build()).hasMessageContaining("labels[team] value");
    assertThatThrownBy(() -> valid().preemptionBudget(-1).build()).hasMessageContaining("preemptionBudget must be >= 0");
    assertThatThrownBy(() -> valid().timeout(Duration.ZERO).build()).hasMessageContaining("timeout must be positive");
    assertThatThrownBy(() -> valid().hedge(0).build()).hasMessageContaining("hedge must be between 1 (off) and 8");
    assertThatThrownBy(() -> valid().onDemandAfterPreemptions(1).build()).hasMessageContaining("spot is NEVER");
    assertThatThrownBy(() -> valid().env("ACCEL_DISPATCH_JOB_ID", "x").build()).hasMessageContaining("reserved");
    assertThatThrownBy(() -> valid().env("1BAD", "x").build()).hasMessageContaining("workload.env name must match");
    assertThatThrownBy(() -> valid().accelerators(AcceleratorRequest.anyOf(Shapes.cpu()).withMinTotalMemoryGib(10)).build())
        .hasMessageContaining("minTotalMemoryGib");
  }

  @Test
  void toString_neverShowsSecretValues() {
    JobSpec spec = valid().secretEnv("HF_TOKEN", Secret.of("hf_very_secret")).env("MODE", "fast").build();
    assertThat(spec.toString()).contains("HF_TOKEN").contains("values hidden").doesNotContain("hf_very_secret");
    assertThat(spec.workload().toString()).doesNotContain("hf_very_secret");
    assertThat(Secret.of("hf_very_secret").toString()).isEqualTo("****");
  }

  @Test
  void toBuilder_copiesEverySetting() {
    JobSpec spec = valid().spot(SpotPolicy.PREFER).onDemandAfterPreemptions(2).maxHourlyPriceUsd(60).maxTotalCostUsd(500)
        .priority(5).tenant("research").label("team", "nlp").preemptionBudget(4).timeout(Duration.ofHours(9))
        .startDeadline(Duration.ofHours(1)).referenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), Duration.ofHours(2))
        .hedge(2).checkpointLocation("gs://b/ckpt").providers("gcp-tpu").regions("us-west4").zones("us-west4-a")
        .env("A", "b").secretEnv("S", Secret.of("t")).build();
    assertThat(spec.toBuilder().build()).isEqualTo(spec);
    assertThat(spec.toBuilder().priority(6).build()).isNotEqualTo(spec);
  }

  @Test
  void acceleratorRequest_minimumMemory_filtersShapes() {
    AcceleratorRequest r = AcceleratorRequest.anyOf(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8))
        .withMinTotalMemoryGib(200);
    assertThat(r.accepts(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8))).isTrue();
    assertThat(r.accepts(Shapes.tpuV5e(8))).as("8 x 16 GiB").isFalse();
  }
}
