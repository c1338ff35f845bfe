package dev.acceldispatch;

/** Whether a job may run on spot (preemptible) capacity. */
public enum SpotPolicy {
  /** On-demand only. */
  NEVER,
  /**
   * Spot first: every spot offer ranks ahead of every on-demand offer; on-demand is used when no
   * spot offer can be had.
   */
  PREFER,
  /** Spot only; the job waits rather than run on-demand. */
  ONLY
}
