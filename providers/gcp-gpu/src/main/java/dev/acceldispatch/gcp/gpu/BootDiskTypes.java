package dev.acceldispatch.gcp.gpu;

import java.util.Locale;
import java.util.Map;

/**
 * The boot disk type per Compute Engine machine series. Setting none is not neutral: an unset
 * {@code initializeParams.diskType} means {@code pd-standard} (compute.proto,
 * AttachedDiskInitializeParams.disk_type), which G2 and A3 do not support, so their inserts end in
 * UNSUPPORTED_OPERATION. Each series gets the general-purpose type it documents:
 *
 * <ul>
 *   <li>N1, A2: pd-balanced (they support pd-standard, pd-balanced and pd-ssd);
 *   <li>A3 High/Mega/Edge: pd-balanced (no pd-standard);
 *   <li>G2: pd-balanced (no pd-standard; no Hyperdisk);
 *   <li>A3 Ultra, A4, G4: hyperdisk-balanced (Hyperdisk only).
 * </ul>
 *
 * <p>Sources: the disk-type table per series in shared/reference/round2-facts.md section 4 (Compute
 * Engine machine-series docs: "Supported disk types" of the accelerator-optimized and N1 series;
 * Vertex DiskSpec for A3 Ultra). A host overrides a series with {@code
 * GcpGpuProvider.Builder.bootDiskType(series, type)}.
 */
final class BootDiskTypes {
  static final Map<String, String> DEFAULTS = Map.of(
      "n1", "pd-balanced",
      "a2", "pd-balanced",
      "a3", "pd-balanced",
      "a3-ultragpu", "hyperdisk-balanced",
      "g2", "pd-balanced",
      "a4", "hyperdisk-balanced",
      "g4", "hyperdisk-balanced");

  private BootDiskTypes() {}

  /**
   * The series keys of a machine type, most specific first: {@code a3-ultragpu-8g} is {@code
   * a3-ultragpu} then {@code a3}; {@code n1-standard-4} is {@code n1-standard} then {@code n1}.
   */
  static String[] seriesKeys(String machineType) {
    String m = machineType.toLowerCase(Locale.ROOT);
    String[] parts = m.split("-");
    return parts.length >= 2 ? new String[] {parts[0] + "-" + parts[1], parts[0]} : new String[] {parts[0]};
  }

  /** The disk type for {@code machineType} from {@code table} (series to type), or null when none applies. */
  static String forMachineType(Map<String, String> table, String machineType) {
    for (String key : seriesKeys(machineType)) {
      String t = table.get(key);
      if (t != null) {
        return t;
      }
    }
    return null;
  }
}
