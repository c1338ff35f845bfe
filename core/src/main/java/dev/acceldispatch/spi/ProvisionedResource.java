package dev.acceldispatch.spi;

import java.util.Map;
import java.util.Objects;

/**
 * A resource a provider created (or adopted), as the engine stores it. Everything a provider needs
 * to find the resource again after a restart must be in these fields, since this is what a durable
 * store keeps.
 *
 * @param providerId the provider that owns it
 * @param name the deterministic resource name the engine asked for
 * @param zone the zone (or region) it lives in
 * @param attributes provider-specific facts, such as the cloud's full resource id or the ids of
 *     helper resources created with it; strings only, so that stores can keep them
 */
public record ProvisionedResource(
    String providerId, String name, String zone, Map<String, String> attributes) {

  /** Validates and copies. */
  public ProvisionedResource {
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(zone, "zone");
    attributes = Map.copyOf(attributes);
  }

  /** A resource with no extra attributes. */
  public static ProvisionedResource of(String providerId, String name, String zone) {
    return new ProvisionedResource(providerId, name, zone, Map.of());
  }
}
