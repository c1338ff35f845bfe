package dev.acceldispatch.gcp.internal;

import java.util.regex.Pattern;

/** Google Cloud zone names: validation and zone to region ({@code us-west4-a} is in {@code us-west4}). */
public final class GcpZones {
  private static final Pattern ZONE = Pattern.compile("[a-z]+-[a-z]+[0-9]+-[a-z]");

  private GcpZones() {}

  /**
   * Checks a zone name for a builder.
   *
   * @throws IllegalArgumentException naming the field {@code zones} when it is not a zone name
   */
  public static String requireZone(String zone) {
    if (zone == null || !ZONE.matcher(zone).matches()) {
      throw new IllegalArgumentException("zones: '" + zone + "' is not a Google Cloud zone name like us-west4-a");
    }
    return zone;
  }

  /** The region of a valid zone. */
  public static String region(String zone) {
    return requireZone(zone).substring(0, zone.lastIndexOf('-'));
  }
}
