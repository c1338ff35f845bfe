package dev.acceldispatch.bench.replay;

import java.util.List;

/**
 * What one policy did on one replay. Times in simulated seconds unless named otherwise.
 *
 * @param policy the policy
 * @param jobs jobs submitted
 * @param succeeded jobs that ended SUCCEEDED
 * @param lost jobs that did not succeed (failed, cancelled, or unfinished at the end)
 * @param cost what the simulated clouds billed, USD
 * @param lowerBound sum over jobs of the cheapest feasible price x run time, USD
 * @param timeToStart p50, p95, p99 of submit to first running, seconds
 * @param completion p50, p95 of submit to the engine seeing the end, seconds
 * @param preemptions spot preemptions (cloud side)
 * @param preemptedDeviceHours accelerator-hours run by attempts that were then preempted
 * @param apiCalls provider calls (create, get, delete, list), retries included
 * @param wallMillis wall time of this policy's replay
 * @param events engine tasks run by the virtual-time scheduler
 * @param simulatedSeconds simulated span of the replay
 * @param samples the time series for the chart
 * @param failedCreates creates the clouds refused (or queued resources deleted unfilled)
 * @param idleBilledHours machine-hours billed while no workload ran: boot, after exit, unused
 * @param lastSubmitHours simulated hour of the last submission: the chart's x axis ends near it
 * @param relaunches (b) only: engine jobs cancelled and submitted again after a full failover round
 */
public record PolicyResult(
    Policy policy, int jobs, int succeeded, int lost, double cost, double lowerBound, double[] timeToStart,
    double[] completion, long preemptions, double preemptedDeviceHours, long apiCalls, long wallMillis, long events,
    long simulatedSeconds, List<Sample> samples, long failedCreates, double idleBilledHours, double lastSubmitHours,
    long relaunches) {

  /** One point of the time series. */
  public record Sample(double hours, int queued, double cumulativeCost) {}

  /** Cost over the lower bound. */
  public double costRatio() {
    return lowerBound == 0 ? 0 : cost / lowerBound;
  }

  /** Engine tasks per wall second. */
  public double eventsPerSecond() {
    return wallMillis == 0 ? 0 : events * 1000.0 / wallMillis;
  }
}
