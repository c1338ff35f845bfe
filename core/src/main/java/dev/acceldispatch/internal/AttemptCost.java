package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Money;
import java.time.Duration;
import java.time.Instant;

/**
 * The one rule for what an attempt costs: its hourly price times the time its machine was held
 * running, from {@link Attempt#runningAt()} to when the attempt ended (or {@code now} while it is
 * live). The same rule for every way an attempt ends:
 *
 * <ul>
 *   <li>never ran (a failed create, cancelled while provisioning, a hedge that lost the race
 *       before it ran, lost or preempted before it was seen running): nothing;
 *   <li>ran and ended (succeeded, failed, preempted, lost, cancelled, a hedge that lost after it
 *       ran, an attempt adopted after a restart): price × (end − runningAt).
 * </ul>
 *
 * <p>An attempt whose workload reported an exit without ever being seen running did run; the
 * engine records it as running from its start ({@link JobRun#markRunning}) before it ends it, so
 * the rule needs no exception for it.
 */
final class AttemptCost {
  private AttemptCost() {}

  /** What {@code a} costs if it ends (or is looked at) at {@code end}. */
  static Money of(Attempt a, Instant end) {
    if (!a.isLive()) {
      return a.cost();
    }
    Instant from = a.runningAt();
    if (from == null || !end.isAfter(from)) {
      return Money.ZERO;
    }
    return a.hourlyPrice().perHourFor(Duration.between(from, end));
  }
}
