package dev.acceldispatch;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A device model from the built-in catalog, with the facts the engine needs to compare shapes:
 * memory per device and peak dense bf16 throughput.
 *
 * <p>Sources (public spec sheets, read 2026):
 * <ul>
 *   <li>TPU v5e: 16 GiB HBM2, 197 TFLOPS bf16 per chip — https://cloud.google.com/tpu/docs/v5e
 *   <li>H100 SXM 80 GB: 989 TFLOPS dense bf16 (1,979 with sparsity) —
 *       https://www.nvidia.com/en-us/data-center/h100/ (datasheet)
 *   <li>H100 NVL 94 GB: 835 TFLOPS dense bf16 (1,671 with sparsity) — same datasheet
 *   <li>A100 80 GB and 40 GB: 312 TFLOPS dense bf16 —
 *       https://www.nvidia.com/en-us/data-center/a100/ (datasheet)
 *   <li>L4 24 GB: 121 TFLOPS dense bf16 (242 with sparsity) —
 *       https://www.nvidia.com/en-us/data-center/l4/ (datasheet)
 *   <li>T4 16 GB: no bf16; 65 TFLOPS fp16 tensor, used as its bf16-equivalent rate —
 *       https://www.nvidia.com/en-us/data-center/tesla-t4/ (datasheet)
 * </ul>
 *
 * @param id the catalog id, lowercase, for example {@code nvidia-h100-80gb}
 * @param family TPU, GPU or CPU
 * @param vendor the maker, for example {@code NVIDIA}
 * @param memoryGib device memory in GiB (0 for {@link #CPU})
 * @param peakBf16Tflops dense bf16 peak per device, the engine's measure of relative speed
 */
public record AcceleratorType(
    String id, AcceleratorFamily family, String vendor, int memoryGib, double peakBf16Tflops) {

  /** Google Cloud TPU v5e (v5 lite) chip. */
  public static final AcceleratorType TPU_V5E =
      new AcceleratorType("tpu-v5e", AcceleratorFamily.TPU, "Google", 16, 197);
  /** NVIDIA H100 SXM, 80 GB. */
  public static final AcceleratorType NVIDIA_H100_80GB =
      new AcceleratorType("nvidia-h100-80gb", AcceleratorFamily.GPU, "NVIDIA", 80, 989);
  /** NVIDIA H100 NVL, 94 GB (Azure NC H100 v5). */
  public static final AcceleratorType NVIDIA_H100_NVL_94GB =
      new AcceleratorType("nvidia-h100-nvl-94gb", AcceleratorFamily.GPU, "NVIDIA", 94, 835);
  /** NVIDIA A100, 80 GB. */
  public static final AcceleratorType NVIDIA_A100_80GB =
      new AcceleratorType("nvidia-a100-80gb", AcceleratorFamily.GPU, "NVIDIA", 80, 312);
  /** NVIDIA A100, 40 GB. */
  public static final AcceleratorType NVIDIA_A100_40GB =
      new AcceleratorType("nvidia-a100-40gb", AcceleratorFamily.GPU, "NVIDIA", 40, 312);
  /** NVIDIA L4, 24 GB. */
  public static final AcceleratorType NVIDIA_L4 =
      new AcceleratorType("nvidia-l4", AcceleratorFamily.GPU, "NVIDIA", 24, 121);
  /** NVIDIA T4, 16 GB. */
  public static final AcceleratorType NVIDIA_T4 =
      new AcceleratorType("nvidia-t4", AcceleratorFamily.GPU, "NVIDIA", 16, 65);
  /**
   * No accelerator: CPU only. Its throughput is nominal (1 TFLOPS) so that time estimates stay
   * finite; a job that names a CPU shape should give its reference run time on that shape.
   */
  public static final AcceleratorType CPU =
      new AcceleratorType("cpu", AcceleratorFamily.CPU, "any", 0, 1);

  private static final Map<String, AcceleratorType> CATALOG = new LinkedHashMap<>();

  static {
    for (AcceleratorType t :
        new AcceleratorType[] {
          TPU_V5E, NVIDIA_H100_80GB, NVIDIA_H100_NVL_94GB, NVIDIA_A100_80GB,
          NVIDIA_A100_40GB, NVIDIA_L4, NVIDIA_T4, CPU
        }) {
      CATALOG.put(t.id, t);
    }
  }

  /** Validates the fields. */
  public AcceleratorType {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(vendor, "vendor");
    if (!id.matches("[a-z0-9][a-z0-9-]*")) {
      throw new IllegalArgumentException(
          "id must be lowercase letters, digits and '-', got '" + id + "'");
    }
    if (memoryGib < 0) {
      throw new IllegalArgumentException("memoryGib must be >= 0, got " + memoryGib);
    }
    if (!(peakBf16Tflops > 0)) {
      throw new IllegalArgumentException("peakBf16Tflops must be > 0, got " + peakBf16Tflops);
    }
  }

  /** Every type in the built-in catalog, in a stable order. */
  public static Collection<AcceleratorType> catalog() {
    return java.util.Collections.unmodifiableCollection(CATALOG.values());
  }

  /** The catalog type with this id, if there is one (case-insensitive). */
  public static Optional<AcceleratorType> find(String id) {
    return Optional.ofNullable(CATALOG.get(id.toLowerCase(Locale.ROOT)));
  }

  /**
   * The catalog type with this id.
   *
   * @throws IllegalArgumentException naming the known ids when there is none
   */
  public static AcceleratorType of(String id) {
    return find(id)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown accelerator type '" + id + "'; known: " + CATALOG.keySet()));
  }

  /**
   * Equal when every component is equal, as for any record; the same instance (a catalog
   * constant, the usual case) answers at once. Placement compares types millions of times.
   */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof AcceleratorType t
        && id.equals(t.id) && family == t.family && vendor.equals(t.vendor) && memoryGib == t.memoryGib
        && Double.compare(peakBf16Tflops, t.peakBf16Tflops) == 0;
  }

  /** The id's hash (cached by the string): equal types have equal ids. */
  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return id;
  }
}
