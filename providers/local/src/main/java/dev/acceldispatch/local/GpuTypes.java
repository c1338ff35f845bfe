package dev.acceldispatch.local;

import dev.acceldispatch.AcceleratorType;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Maps the GPU names {@code nvidia-smi} prints to catalog types. Names differ by form factor and
 * driver ({@code NVIDIA A100-SXM4-40GB}, {@code NVIDIA A100 80GB PCIe}, {@code Tesla T4}), so this
 * matches the model token and uses the reported memory where a model comes in two sizes. Exact
 * names the host maps itself win.
 */
final class GpuTypes {
  // A model token must stand alone: "L4" must not match "L40S", "T4" must not match "RTX 4090".
  private static final Pattern L4 = Pattern.compile("(^|[^A-Z0-9])L4($|[^A-Z0-9])");
  private static final Pattern T4 = Pattern.compile("(^|[^A-Z0-9])T4($|[^A-Z0-9])");
  private static final Pattern H100 = Pattern.compile("(^|[^A-Z0-9])H100($|[^A-Z0-9])");
  private static final Pattern A100 = Pattern.compile("(^|[^A-Z0-9])A100($|[^A-Z0-9])");
  /** Above this an A100 is the 80 GB model (the 40 GB one reports about 40,960 MiB). */
  private static final long A100_80GB_THRESHOLD_MIB = 60_000;

  private final Map<String, AcceleratorType> overrides;

  /** @param overrides exact {@code nvidia-smi} names (case-insensitive) mapped by the host */
  GpuTypes(Map<String, AcceleratorType> overrides) {
    this.overrides = Map.copyOf(overrides);
  }

  /** The catalog type of a GPU, if this knows it. */
  Optional<AcceleratorType> typeOf(String name, long memoryMib) {
    for (Map.Entry<String, AcceleratorType> e : overrides.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name.trim())) {
        return Optional.of(e.getValue());
      }
    }
    String n = name.toUpperCase(Locale.ROOT);
    if (H100.matcher(n).find()) {
      return Optional.of(n.contains("NVL") ? AcceleratorType.NVIDIA_H100_NVL_94GB : AcceleratorType.NVIDIA_H100_80GB);
    }
    if (A100.matcher(n).find()) {
      boolean big = n.contains("80GB") || (!n.contains("40GB") && memoryMib > A100_80GB_THRESHOLD_MIB);
      return Optional.of(big ? AcceleratorType.NVIDIA_A100_80GB : AcceleratorType.NVIDIA_A100_40GB);
    }
    if (L4.matcher(n).find()) {
      return Optional.of(AcceleratorType.NVIDIA_L4);
    }
    if (T4.matcher(n).find()) {
      return Optional.of(AcceleratorType.NVIDIA_T4);
    }
    return Optional.empty();
  }
}
