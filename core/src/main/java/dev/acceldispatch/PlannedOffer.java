package dev.acceldispatch;

import java.time.Duration;

/**
 * One feasible offer for a job, with the estimates it was ranked by.
 *
 * @param rank 1 for the best
 * @param offer the offer
 * @param spot whether its spot tier would be used
 * @param estimatedRunTime the run time on the offer's shape, scaled from the reference run time
 * @param estimatedCost price times expected run time, including expected preemption overhead on spot
 * @param expectedTimeToStart how long until it is expected to run, from provisioning latency and
 *     recent capacity failures
 * @param score the placement policy's score, lower is better
 * @param reason why it ranks where it does, in words
 */
public record PlannedOffer(
    int rank,
    Offer offer,
    boolean spot,
    Duration estimatedRunTime,
    Money estimatedCost,
    Duration expectedTimeToStart,
    double score,
    String reason) {

  @Override
  public String toString() {
    return String.format(
        "#%d %s%s est. %s over %s, start in ~%s: %s",
        rank, offer.key(), spot ? " (spot)" : "", estimatedCost, Durations.human(estimatedRunTime),
        Durations.human(expectedTimeToStart), reason);
  }
}
