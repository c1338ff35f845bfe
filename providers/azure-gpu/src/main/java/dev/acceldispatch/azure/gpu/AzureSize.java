package dev.acceldispatch.azure.gpu;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Shapes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One Azure GPU VM size from the table {@code sizes.csv} beside this class.
 *
 * @param name the ARM size name, for example {@code Standard_NC24ads_A100_v4}
 * @param shape the GPUs it carries
 * @param vcpus its vCPUs, which Azure's cores quota counts
 * @param memoryGib its RAM
 * @param quotaFamily the quota family name Azure's Usages API reports
 * @param image the marketplace image whose NVIDIA driver supports this size's GPU (sources in the
 *     table)
 */
record AzureSize(String name, AcceleratorShape shape, int vcpus, int memoryGib, String quotaFamily, ImageUrn image) {
  private static final Map<String, AzureSize> TABLE = load();

  /** Every size in the table, keyed by lower-case name, in table order. */
  static Map<String, AzureSize> table() {
    return TABLE;
  }

  /** The size named {@code name} (case-insensitive), or null. */
  static AzureSize find(String name) {
    return TABLE.get(name.toLowerCase(Locale.ROOT));
  }

  private static Map<String, AzureSize> load() {
    Map<String, AzureSize> out = new LinkedHashMap<>();
    try (InputStream in = AzureSize.class.getResourceAsStream("sizes.csv")) {
      if (in == null) {
        throw new IllegalStateException("sizes.csv missing from the azure-gpu jar");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split(",");
        if (f.length != 7) {
          throw new IllegalStateException("sizes.csv line " + n + ": expected 7 fields, got " + f.length);
        }
        AcceleratorShape shape = Shapes.gpu(AcceleratorType.of(f[1].trim()), Integer.parseInt(f[2].trim()));
        AzureSize s = new AzureSize(f[0].trim(), shape, Integer.parseInt(f[3].trim()), Integer.parseInt(f[4].trim()), f[5].trim(),
            ImageUrn.parse("sizes.csv line " + n + " image", f[6].trim()));
        out.put(s.name().toLowerCase(Locale.ROOT), s);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return java.util.Collections.unmodifiableMap(out);
  }
}
