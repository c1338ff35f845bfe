package dev.acceldispatch.testkit.emulator.gce;

import com.google.cloud.compute.v1.AcceleratorType;
import com.google.cloud.compute.v1.Accelerators;
import com.google.cloud.compute.v1.MachineType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What exists where in the emulated Compute Engine: the GPU machine series and accelerator types of
 * each zone (rule GCE-2 of the testkit README), the concrete machine types of each series with their
 * built-in GPUs, and the boot disk types each series supports (rule GCE-1).
 *
 * <p>Sources: machine series and their GPUs, cloud.google.com/compute/docs/gpus and
 * .../gpus/gpu-regions-zones (A2, A3 and G2 exist in some zones only); disk types per series, the
 * series table in shared/reference/round2-facts.md section 4 (G2 and A3 do not support
 * pd-standard, A3 Ultra only hyperdisk-balanced). The default zone table is an example in that
 * spirit, not a copy of today's live list; tests set their own with {@link GceEmulator#zone}.
 */
final class GceZoneCatalog {
  /** The GPU series of a zone and its accelerator types. */
  record Zone(Set<String> series, Set<String> acceleratorTypes) {}

  private static final Set<String> ALL_SERIES = Set.of("a3-highgpu", "a2-highgpu", "a2-ultragpu", "g2-standard", "n1");
  private static final Set<String> ALL_GPUS =
      Set.of("nvidia-h100-80gb", "nvidia-tesla-a100", "nvidia-a100-80gb", "nvidia-l4", "nvidia-tesla-t4");

  private final Map<String, Zone> zones = new java.util.concurrent.ConcurrentHashMap<>();

  GceZoneCatalog() {
    zones.put("us-central1-a", new Zone(ALL_SERIES, ALL_GPUS));
    zones.put("us-central1-b", new Zone(Set.of("a2-highgpu", "g2-standard", "n1"), Set.of("nvidia-tesla-a100", "nvidia-l4", "nvidia-tesla-t4")));
    zones.put("us-central1-c", new Zone(ALL_SERIES, ALL_GPUS));
    zones.put("us-central1-f", new Zone(Set.of("a2-highgpu", "n1"), Set.of("nvidia-tesla-a100", "nvidia-tesla-t4")));
    zones.put("us-east1-b", new Zone(Set.of("n1"), Set.of("nvidia-tesla-t4")));
    zones.put("europe-west4-a", new Zone(ALL_SERIES, ALL_GPUS));
    zones.put("europe-west4-b", new Zone(Set.of("a3-highgpu", "a2-highgpu", "g2-standard", "n1"),
        Set.of("nvidia-h100-80gb", "nvidia-tesla-a100", "nvidia-l4", "nvidia-tesla-t4")));
  }

  void put(String zone, Set<String> series, Set<String> acceleratorTypes) {
    for (String s : series) {
      if (!ALL_SERIES.contains(s)) {
        throw new IllegalArgumentException("series: '" + s + "' is not one of " + ALL_SERIES);
      }
    }
    zones.put(zone, new Zone(Set.copyOf(series), Set.copyOf(acceleratorTypes)));
  }

  Optional<Zone> zone(String zone) {
    return Optional.ofNullable(zones.get(zone));
  }

  /** The series of a machine type: {@code a3-highgpu-8g} is {@code a3-highgpu}, {@code n1-standard-4} is {@code n1}. */
  static String series(String machineType) {
    if (machineType.startsWith("n1-")) {
      return "n1";
    }
    int last = machineType.lastIndexOf('-');
    return last < 0 ? machineType : machineType.substring(0, last);
  }

  /** Whether the zone offers this machine type. */
  boolean hasMachineType(String zone, String machineType) {
    return zone(zone).map(z -> z.series().contains(series(machineType)) && machineTypes(zone).stream()
        .anyMatch(m -> m.getName().equals(machineType))).orElse(false);
  }

  /** Whether the zone offers this accelerator type. */
  boolean hasAcceleratorType(String zone, String acceleratorType) {
    return zone(zone).map(z -> z.acceleratorTypes().contains(acceleratorType)).orElse(false);
  }

  /** The machine types of a zone as {@code machineTypes.list} serves them (GPU series and N1 only). */
  List<MachineType> machineTypes(String zone) {
    List<MachineType> out = new ArrayList<>();
    Zone z = zones.get(zone);
    if (z == null) {
      return out;
    }
    Map<String, Object[]> types = new LinkedHashMap<>();
    if (z.series().contains("a3-highgpu")) {
      types.put("a3-highgpu-8g", new Object[] {208, "nvidia-h100-80gb", 8});
    }
    for (int n : new int[] {1, 2, 4, 8}) {
      if (z.series().contains("a2-highgpu")) {
        types.put("a2-highgpu-" + n + "g", new Object[] {12 * n, "nvidia-tesla-a100", n});
      }
      if (z.series().contains("a2-ultragpu")) {
        types.put("a2-ultragpu-" + n + "g", new Object[] {12 * n, "nvidia-a100-80gb", n});
      }
    }
    if (z.series().contains("g2-standard")) {
      for (int[] g : new int[][] {{4, 1}, {8, 1}, {12, 1}, {16, 1}, {24, 2}, {32, 1}, {48, 4}, {96, 8}}) {
        types.put("g2-standard-" + g[0], new Object[] {g[0], "nvidia-l4", g[1]});
      }
    }
    if (z.series().contains("n1")) {
      for (int cpus : new int[] {1, 2, 4, 8, 16, 32, 64, 96}) {
        types.put("n1-standard-" + cpus, new Object[] {cpus, null, 0});
      }
    }
    String zoneUrl = "https://www.googleapis.com/compute/v1/projects/-/zones/" + zone;
    types.forEach((name, v) -> {
      MachineType.Builder m = MachineType.newBuilder().setKind("compute#machineType").setName(name).setZone(zone)
          .setGuestCpus((Integer) v[0]).setSelfLink(zoneUrl + "/machineTypes/" + name);
      if (v[1] != null) {
        m.addAccelerators(Accelerators.newBuilder().setGuestAcceleratorType((String) v[1]).setGuestAcceleratorCount((Integer) v[2]));
      }
      out.add(m.build());
    });
    return out;
  }

  /** The accelerator types of a zone as {@code acceleratorTypes.list} serves them. */
  List<AcceleratorType> acceleratorTypes(String zone) {
    List<AcceleratorType> out = new ArrayList<>();
    Zone z = zones.get(zone);
    if (z == null) {
      return out;
    }
    for (String a : new java.util.TreeSet<>(z.acceleratorTypes())) {
      out.add(AcceleratorType.newBuilder().setKind("compute#acceleratorType").setName(a).setZone(zone)
          .setMaximumCardsPerInstance(a.equals("nvidia-tesla-t4") ? 4 : 8)
          .setDescription(a.toUpperCase(Locale.ROOT)).build());
    }
    return out;
  }

  /**
   * The boot disk types a series supports (round2-facts section 4): N1 and A2 take pd-standard,
   * pd-balanced and pd-ssd; A3 High and G2 do not take pd-standard; A3 Ultra takes only
   * hyperdisk-balanced.
   */
  static Set<String> diskTypes(String series) {
    return switch (series) {
      case "n1", "a2-highgpu", "a2-ultragpu" -> Set.of("pd-standard", "pd-balanced", "pd-ssd");
      case "a3-highgpu" -> Set.of("pd-balanced", "pd-ssd", "hyperdisk-balanced");
      case "a3-ultragpu" -> Set.of("hyperdisk-balanced");
      case "g2-standard" -> Set.of("pd-balanced", "pd-ssd");
      default -> Set.of("pd-standard", "pd-balanced", "pd-ssd");
    };
  }
}
