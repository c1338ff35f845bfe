package dev.acceldispatch;

/** Factories for {@link AcceleratorShape}s, validated as they are built. */
public final class Shapes {
  private Shapes() {}

  /**
   * A TPU v5e slice.
   *
   * @param chips 1, 4, 8, 16, 32, 64, 128 or 256
   * @throws IllegalArgumentException for any other count
   */
  public static AcceleratorShape tpuV5e(int chips) {
    return new AcceleratorShape(AcceleratorType.TPU_V5E, chips, null);
  }

  /**
   * One machine with {@code count} GPUs of {@code type}.
   *
   * @param count 1, 2, 4 or 8
   * @throws IllegalArgumentException for any other count, or when {@code type} is not a GPU
   * @throws NullPointerException naming {@code type} when it is null
   */
  public static AcceleratorShape gpu(AcceleratorType type, int count) {
    java.util.Objects.requireNonNull(type, "type: name a GPU type, e.g. AcceleratorType.NVIDIA_H100_80GB");
    if (type.family() != AcceleratorFamily.GPU) {
      throw new IllegalArgumentException("type: " + type.id() + " is not a GPU");
    }
    return new AcceleratorShape(type, count, null);
  }

  /** No accelerator: a CPU-only slot, for workloads that need none. */
  public static AcceleratorShape cpu() {
    return new AcceleratorShape(AcceleratorType.CPU, 1, null);
  }
}
