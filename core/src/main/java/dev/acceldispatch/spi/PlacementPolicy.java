package dev.acceldispatch.spi;

import dev.acceldispatch.JobSpec;

/**
 * Scores feasible placements of a job; the engine tries them lowest score first. The engine has
 * already removed what the job's constraints forbid and what is blocked; a policy only orders.
 * Spot ordering under {@code SpotPolicy.PREFER} is applied by the engine on top of the score.
 *
 * <p>Implementations must be fast, pure and thread-safe: the engine calls them for every
 * placement decision and for {@code Dispatcher.plan}.
 */
public interface PlacementPolicy {

  /** Lower is better. Must be finite. */
  double score(JobSpec job, PlacementCandidate candidate);

  /** Why the candidate scores as it does, in a few words, for {@code Dispatcher.plan}. */
  default String explain(JobSpec job, PlacementCandidate candidate) {
    return "score " + String.format("%.2f", score(job, candidate));
  }

  /**
   * The default: estimated cost to finish, plus the value of the time spent waiting to start,
   * priced at the offer's own hourly rate (waiting an hour for a machine is treated as costly as
   * paying for one). This balances a cheap offer in a zone that keeps stocking out against a
   * dearer one that starts now.
   */
  PlacementPolicy BALANCED =
      new PlacementPolicy() {
        @Override
        public double score(JobSpec job, PlacementCandidate c) {
          double waitHours = c.expectedTimeToStart().toMillis() / 3_600_000.0;
          return c.estimatedCost().toDouble() + c.hourlyPrice().toDouble() * waitHours;
        }

        @Override
        public String explain(JobSpec job, PlacementCandidate c) {
          return String.format(
              "cost %s + waiting %s at %s/h%s", c.estimatedCost(),
              c.expectedTimeToStart().toSeconds() + "s", c.hourlyPrice(),
              c.recentFailures() > 0 ? ", " + c.recentFailures() + " recent failures here" : "");
        }
      };

  /** Cheapest estimated cost to finish, ignoring time to start. */
  PlacementPolicy CHEAPEST =
      new PlacementPolicy() {
        @Override
        public double score(JobSpec job, PlacementCandidate c) {
          return c.estimatedCost().toDouble();
        }

        @Override
        public String explain(JobSpec job, PlacementCandidate c) {
          return "cost " + c.estimatedCost();
        }
      };

  /** Soonest expected start, then cheapest. */
  PlacementPolicy FASTEST_START =
      new PlacementPolicy() {
        @Override
        public double score(JobSpec job, PlacementCandidate c) {
          return c.expectedTimeToStart().toMillis() * 1e6 + c.estimatedCost().toDouble();
        }

        @Override
        public String explain(JobSpec job, PlacementCandidate c) {
          return "starts in ~" + c.expectedTimeToStart().toSeconds() + "s, cost " + c.estimatedCost();
        }
      };
}
