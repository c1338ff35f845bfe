package dev.acceldispatch.local;

import dev.acceldispatch.AcceleratorType;
import java.util.Objects;

/**
 * One GPU as {@code nvidia-smi} lists it, with the catalog type it maps to.
 *
 * @param index the device index, as {@code nvidia-smi} and {@code CUDA_DEVICE_ORDER=PCI_BUS_ID}
 *     number it
 * @param name the name {@code nvidia-smi} prints, for example {@code NVIDIA H100 80GB HBM3}
 * @param memoryMib the memory it reports, in MiB (0 when it printed none)
 * @param uuid the device UUID, for example {@code GPU-5c1b...}
 * @param type the catalog type
 */
record GpuDevice(int index, String name, long memoryMib, String uuid, AcceleratorType type) {
  GpuDevice {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(uuid, "uuid");
    Objects.requireNonNull(type, "type");
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, got " + index);
    }
  }
}
