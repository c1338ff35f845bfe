package dev.acceldispatch;

import java.util.Map;
import java.util.Objects;

/**
 * A number of devices of one {@link AcceleratorType} that a job runs on as one unit: one machine
 * with N GPUs, or one TPU slice.
 *
 * <p>Validated on construction: TPU v5e slices exist only at 1, 4, 8, 16, 32, 64, 128 and 256
 * chips, each with its fixed topology (1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16); GPU machines
 * have 1, 2, 4 or 8 GPUs; a CPU shape has count 1. Build them with {@link Shapes}.
 *
 * @param type the device model
 * @param count how many devices
 * @param topology the TPU topology such as {@code 2x4}, or {@code null} for GPUs and CPU
 */
public record AcceleratorShape(AcceleratorType type, int count, String topology) {

  private static final Map<Integer, String> V5E_TOPOLOGIES =
      Map.of(1, "1x1", 4, "2x2", 8, "2x4", 16, "4x4", 32, "4x8", 64, "8x8", 128, "8x16", 256, "16x16");

  /** Validates the shape against what exists. */
  public AcceleratorShape {
    Objects.requireNonNull(type, "type");
    switch (type.family()) {
      case TPU -> {
        String expected = V5E_TOPOLOGIES.get(count);
        if (expected == null) {
          throw new IllegalArgumentException(
              "count: TPU v5e slices have 1, 4, 8, 16, 32, 64, 128 or 256 chips, got " + count);
        }
        if (topology == null) {
          topology = expected;
        } else if (!topology.equals(expected)) {
          throw new IllegalArgumentException(
              "topology: a TPU v5e slice of " + count + " chips has topology " + expected
                  + ", got '" + topology + "'");
        }
      }
      case GPU -> {
        if (count != 1 && count != 2 && count != 4 && count != 8) {
          throw new IllegalArgumentException(
              "count: GPU machines have 1, 2, 4 or 8 GPUs, got " + count);
        }
        if (topology != null) {
          throw new IllegalArgumentException("topology: only TPU shapes have a topology");
        }
      }
      case CPU -> {
        if (count != 1) {
          throw new IllegalArgumentException("count: a CPU shape has count 1, got " + count);
        }
        if (topology != null) {
          throw new IllegalArgumentException("topology: only TPU shapes have a topology");
        }
      }
    }
  }

  /** Device memory of the whole shape, in GiB. */
  public long totalMemoryGib() {
    return (long) type.memoryGib() * count;
  }

  /** Peak dense bf16 throughput of the whole shape, in TFLOPS: the engine's speed measure. */
  public double totalTflops() {
    return type.peakBf16Tflops() * count;
  }

  /**
   * The number of devices the shape holds, for quotas and fair share (a CPU shape counts as 0
   * accelerators).
   */
  public int acceleratorCount() {
    return type.family() == AcceleratorFamily.CPU ? 0 : count;
  }

  /** Equal when type, count and topology are; the same instance answers at once. */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof AcceleratorShape s && count == s.count && type.equals(s.type) && Objects.equals(topology, s.topology);
  }

  /** From the type and the count (equal shapes have both equal). */
  @Override
  public int hashCode() {
    return type.hashCode() * 31 + count;
  }

  /** For example {@code tpu-v5e x8 (2x4)} or {@code nvidia-h100-80gb x8}. */
  @Override
  public String toString() {
    return type.id() + " x" + count + (topology == null ? "" : " (" + topology + ")");
  }
}
