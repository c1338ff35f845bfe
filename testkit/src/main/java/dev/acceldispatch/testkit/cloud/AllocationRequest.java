package dev.acceldispatch.testkit.cloud;

import java.util.List;
import java.util.Objects;

/**
 * What an emulator asks the {@link CloudModel} for when a resource is created.
 *
 * @param resourceName the cloud resource's name (unique within the model)
 * @param region the region
 * @param zone the zone (for region-placed clouds, the region)
 * @param pool the capacity pool it draws from, for example {@code tpu-v5e} or {@code
 *     nvidia-h100-80gb}
 * @param units how many units of the pool (chips, GPUs)
 * @param spot whether it is spot capacity (which can be preempted)
 * @param quotaNames the quota names this allocation counts against, for example {@code
 *     NVIDIA_T4_GPUS}; each is checked in the zone's and the region's scope and globally
 */
public record AllocationRequest(
    String resourceName, String region, String zone, String pool, int units, boolean spot, List<String> quotaNames) {
  /** Validates and copies. */
  public AllocationRequest {
    Objects.requireNonNull(resourceName, "resourceName");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(pool, "pool");
    quotaNames = List.copyOf(quotaNames);
    if (units < 0) {
      throw new IllegalArgumentException("units must be >= 0");
    }
  }
}
