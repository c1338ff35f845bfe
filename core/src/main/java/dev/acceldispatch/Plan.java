package dev.acceldispatch;

import java.util.List;

/**
 * The dry-run answer of {@code Dispatcher.plan}: every feasible offer for a job, best first, with
 * estimates and reasons, and why the other offers were left out. Nothing is provisioned.
 *
 * @param jobName the job
 * @param ranked feasible offers, best first
 * @param excluded why other offers were left out, one line per reason with a count
 */
public record Plan(String jobName, List<PlannedOffer> ranked, List<String> excluded) {
  /** Copies. */
  public Plan {
    ranked = List.copyOf(ranked);
    excluded = List.copyOf(excluded);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Plan for '").append(jobName).append("':\n");
    ranked.forEach(p -> sb.append("  ").append(p).append('\n'));
    if (!excluded.isEmpty()) {
      sb.append("  excluded:\n");
      excluded.forEach(e -> sb.append("    - ").append(e).append('\n'));
    }
    return sb.toString();
  }
}
