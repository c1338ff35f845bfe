package dev.acceldispatch.gcp.gpu;

import dev.acceldispatch.AcceleratorFamily;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Shapes;
import java.util.List;
import java.util.Objects;

/**
 * One row of the GPU machine-type table: a Compute Engine machine type, the GPUs it carries, and
 * the price-catalog SKU of the whole machine. A3, A2 and G2 machine types come with their GPUs
 * built in; N1 machine types get theirs as a guest accelerator ({@link #guestAcceleratorType()}).
 * The table is data: a host adds rows with {@code GcpGpuProvider.Builder.machineTypes(...)}.
 *
 * @param sku the price-catalog SKU for the whole machine, for example {@code a3-highgpu-8g} or
 *     {@code n1-standard-4-t4x1}
 * @param machineType the Compute Engine machine type, for example {@code n1-standard-4}; unique
 *     within one provider's table (it is the offer's machine type)
 * @param gpu the GPU model
 * @param gpuCount how many GPUs the machine has
 * @param guestAcceleratorType the Compute Engine accelerator type to attach (for example {@code
 *     nvidia-tesla-t4}), or {@code null} when the machine type has its GPUs built in
 */
public record GpuMachineType(
    String sku, String machineType, AcceleratorType gpu, int gpuCount, String guestAcceleratorType) {

  /** Validates. */
  public GpuMachineType {
    Objects.requireNonNull(sku, "sku");
    Objects.requireNonNull(machineType, "machineType");
    Objects.requireNonNull(gpu, "gpu");
    if (gpu.family() != AcceleratorFamily.GPU) {
      throw new IllegalArgumentException("gpu: " + gpu.id() + " is not a GPU");
    }
    shape(gpu, gpuCount);
  }

  /**
   * The built-in table (machine types and GPU names from cloud.google.com/compute/docs/gpus, as
   * collected in shared/reference/cloud-api-facts.md B1): H100 80GB x8, A100 40GB x1, A100 80GB
   * x1, L4 x1, T4 x1/x2/x4 on N1.
   */
  public static List<GpuMachineType> defaults() {
    return List.of(
        new GpuMachineType("a3-highgpu-8g", "a3-highgpu-8g", AcceleratorType.NVIDIA_H100_80GB, 8, null),
        new GpuMachineType("a2-highgpu-1g", "a2-highgpu-1g", AcceleratorType.NVIDIA_A100_40GB, 1, null),
        new GpuMachineType("a2-ultragpu-1g", "a2-ultragpu-1g", AcceleratorType.NVIDIA_A100_80GB, 1, null),
        new GpuMachineType("g2-standard-4", "g2-standard-4", AcceleratorType.NVIDIA_L4, 1, null),
        new GpuMachineType("n1-standard-4-t4x1", "n1-standard-4", AcceleratorType.NVIDIA_T4, 1, "nvidia-tesla-t4"),
        new GpuMachineType("n1-standard-8-t4x2", "n1-standard-8", AcceleratorType.NVIDIA_T4, 2, "nvidia-tesla-t4"),
        new GpuMachineType("n1-standard-16-t4x4", "n1-standard-16", AcceleratorType.NVIDIA_T4, 4, "nvidia-tesla-t4"));
  }

  /** The accelerator shape this machine supplies. */
  public AcceleratorShape shape() {
    return shape(gpu, gpuCount);
  }

  private static AcceleratorShape shape(AcceleratorType gpu, int count) {
    return Shapes.gpu(gpu, count);
  }
}
