package dev.acceldispatch.spi;

import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import java.time.Duration;

/**
 * One feasible (offer, tier) for a job, with the engine's estimates, as a {@link PlacementPolicy}
 * sees it.
 *
 * @param offer the offer
 * @param spot whether its spot tier would be used
 * @param hourlyPrice the price per hour of that tier
 * @param estimatedRunTime the job's run time on the offer's shape
 * @param estimatedCost hourly price times expected wall time (including expected preemption
 *     overhead on spot)
 * @param expectedTimeToStart provisioning latency plus a penalty for recent failures there
 * @param expectedPreemptions how many preemptions the run is expected to suffer (0 on-demand)
 * @param recentFailures capacity, quota or transient failures at that offer in the recent window
 */
public record PlacementCandidate(
    Offer offer,
    boolean spot,
    Money hourlyPrice,
    Duration estimatedRunTime,
    Money estimatedCost,
    Duration expectedTimeToStart,
    double expectedPreemptions,
    int recentFailures) {}
