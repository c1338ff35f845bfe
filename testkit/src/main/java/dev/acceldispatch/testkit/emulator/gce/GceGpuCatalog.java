package dev.acceldispatch.testkit.emulator.gce;

import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.Instance;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the emulated Compute Engine knows about GPU machine types: which GPU a machine type (or an
 * N1 machine's guest accelerators) carries, how many, which capacity pool of the cloud model it
 * draws from (the AcceleratorType catalog id, units = GPUs) and which quotas it counts against
 * (the real GCE quota names).
 */
final class GceGpuCatalog {
  private GceGpuCatalog() {}

  /** One GCE accelerator type: its cloud model pool and its quota metric (without prefix). */
  private record Gpu(String pool, String quota) {}

  /** GCE accelerator type name to what it is. */
  private static final Map<String, Gpu> GPUS =
      Map.of(
          "nvidia-h100-80gb", new Gpu("nvidia-h100-80gb", "NVIDIA_H100_GPUS"),
          "nvidia-tesla-a100", new Gpu("nvidia-a100-40gb", "NVIDIA_A100_GPUS"),
          "nvidia-a100-80gb", new Gpu("nvidia-a100-80gb", "NVIDIA_A100_80GB_GPUS"),
          "nvidia-l4", new Gpu("nvidia-l4", "NVIDIA_L4_GPUS"),
          "nvidia-tesla-t4", new Gpu("nvidia-t4", "NVIDIA_T4_GPUS"));

  private static final Pattern A_SERIES = Pattern.compile("(a3-highgpu|a2-highgpu|a2-ultragpu)-(\\d+)g");
  private static final Pattern G2 = Pattern.compile("g2-standard-(\\d+)");
  private static final Pattern N1 = Pattern.compile("n1-(standard|highmem|highcpu)-\\d+");

  /** What one instance asks of the cloud. */
  record Demand(String acceleratorType, String pool, int units, List<String> quotas) {}

  /**
   * The GPUs {@code instance} needs, or a message saying why the emulator cannot place it (an
   * unknown machine type, an N1 machine without a known accelerator).
   */
  static Object demand(Instance instance, boolean spot) {
    String machineType = lastSegment(instance.getMachineType());
    String accel;
    int count;
    Matcher m = A_SERIES.matcher(machineType);
    Matcher g = G2.matcher(machineType);
    if (m.matches()) {
      accel = switch (m.group(1)) {
        case "a3-highgpu" -> "nvidia-h100-80gb";
        case "a2-highgpu" -> "nvidia-tesla-a100";
        default -> "nvidia-a100-80gb";
      };
      count = Integer.parseInt(m.group(2));
    } else if (g.matches()) {
      accel = "nvidia-l4";
      count = switch (Integer.parseInt(g.group(1))) {
        case 24 -> 2;
        case 48 -> 4;
        case 96 -> 8;
        default -> 1;
      };
    } else if (N1.matcher(machineType).matches()) {
      if (instance.getGuestAcceleratorsCount() != 1) {
        return "Invalid value for field 'resource.guestAccelerators': the emulator needs exactly one"
            + " accelerator config on an N1 machine, got " + instance.getGuestAcceleratorsCount();
      }
      AcceleratorConfig c = instance.getGuestAccelerators(0);
      accel = lastSegment(c.getAcceleratorType());
      count = c.getAcceleratorCount();
    } else {
      return "The resource 'machineTypes/" + machineType + "' was not found";
    }
    Gpu gpu = GPUS.get(accel);
    if (gpu == null) {
      return "The resource 'acceleratorTypes/" + accel + "' was not found";
    }
    if (count < 1) {
      return "Invalid value for field 'resource.guestAccelerators[0].acceleratorCount': " + count;
    }
    String quota = (spot ? "PREEMPTIBLE_" : "") + gpu.quota();
    return new Demand(accel, gpu.pool(), count, List.of(quota, "GPUS_ALL_REGIONS"));
  }

  static String lastSegment(String s) {
    int i = s.lastIndexOf('/');
    return i < 0 ? s : s.substring(i + 1);
  }
}
