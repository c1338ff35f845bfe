package dev.acceldispatch;

import java.util.Objects;
import java.util.Optional;

/**
 * One thing a provider can supply: a shape on a machine type in a zone, at an on-demand price and,
 * where the cloud sells it, a spot price.
 *
 * @param providerId the provider's id, for example {@code gcp-tpu}
 * @param region the cloud region, for example {@code us-west4}
 * @param zone the zone, for example {@code us-west4-a}; for clouds placed by region (Azure) the
 *     region itself
 * @param shape what it supplies
 * @param machineType the cloud's own name for it, for example {@code v5litepod-8} or {@code
 *     Standard_ND96isr_H100_v5}
 * @param onDemandHourly the on-demand price per hour
 * @param spotHourly the spot price per hour, or {@code null} when there is no spot tier
 * @param capacity how many machines of this offer may be held at once as far as the provider
 *     knows ({@link #UNLIMITED} when only the cloud can tell). The engine counts a machine from
 *     the moment it sends the create until its release has succeeded (not merely until its
 *     workload ended), so an offer of capacity 1 gets its next create only once the last machine
 *     is gone
 */
public record Offer(
    String providerId,
    String region,
    String zone,
    AcceleratorShape shape,
    String machineType,
    Money onDemandHourly,
    Money spotHourly,
    int capacity) {

  /** Capacity that only the cloud knows. */
  public static final int UNLIMITED = Integer.MAX_VALUE;

  /** Validates. */
  public Offer {
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(machineType, "machineType");
    Objects.requireNonNull(onDemandHourly, "onDemandHourly");
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
  }

  /** An offer with unlimited capacity. */
  public static Offer of(
      String providerId, String region, String zone, AcceleratorShape shape, String machineType,
      Money onDemandHourly, Money spotHourly) {
    return new Offer(providerId, region, zone, shape, machineType, onDemandHourly, spotHourly, UNLIMITED);
  }

  /** The spot price, if spot is sold. */
  public Optional<Money> spot() {
    return Optional.ofNullable(spotHourly);
  }

  /** The hourly price of the given tier. */
  public Money hourly(boolean spot) {
    if (spot && spotHourly == null) {
      throw new IllegalArgumentException("offer " + key() + " has no spot tier");
    }
    return spot ? spotHourly : onDemandHourly;
  }

  /** {@code provider/zone/machineType}: identifies the offer within a dispatcher. */
  public String key() {
    return providerId + "/" + zone + "/" + machineType;
  }

  @Override
  public String toString() {
    return key() + " " + shape + " " + onDemandHourly + "/h"
        + (spotHourly == null ? "" : " (spot " + spotHourly + "/h)");
  }
}
