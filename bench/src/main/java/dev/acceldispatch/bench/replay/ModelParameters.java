package dev.acceldispatch.bench.replay;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The simulated clouds' parameters, read from {@code cloud-model.properties} (next to this
 * package's resources), where each value cites its source or reasoning.
 */
public final class ModelParameters {
  /** The file on the class path. */
  public static final String RESOURCE = "/dev/acceldispatch/bench/cloud-model.properties";

  private final Properties p;

  private ModelParameters(Properties p) {
    this.p = p;
  }

  /** The built-in file. */
  public static ModelParameters defaults() {
    Properties p = new Properties();
    try (InputStream in = ModelParameters.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the bench jar");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ModelParameters(p);
  }

  /** A required string. */
  public String string(String key) {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IllegalArgumentException(RESOURCE + ": missing " + key);
    }
    return v.trim();
  }

  /** A required number. */
  public double number(String key) {
    return Double.parseDouble(string(key));
  }

  /** A number, or {@code fallback} when absent. */
  public double number(String key, double fallback) {
    String v = p.getProperty(key);
    return v == null ? fallback : Double.parseDouble(v.trim());
  }

  /** {@code region:zone} pairs of a provider, in file order: zone to region. */
  public Map<String, String> zones(String provider) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : string("zones." + provider).split(",")) {
      String[] rz = pair.trim().split(":");
      out.put(rz[1], rz[0]);
    }
    return out;
  }

  /** Accelerator type ids with a capacity for {@code provider}, with devices per zone. */
  public Map<String, Integer> capacities(String provider) {
    Map<String, Integer> out = new LinkedHashMap<>();
    String prefix = "capacity." + provider + ".";
    List<String> keys = new ArrayList<>(p.stringPropertyNames());
    keys.sort(null);
    for (String k : keys) {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), Integer.parseInt(p.getProperty(k).trim()));
      }
    }
    return out;
  }

  /** Tenant name to weight of its share of jobs, in file order. */
  public Map<String, Integer> tenants() {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String t : string("mapping.tenants").split(",")) {
      String[] nw = t.trim().split(":");
      out.put(nw[0], Integer.parseInt(nw[1]));
    }
    return out;
  }
}
