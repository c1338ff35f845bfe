package dev.acceldispatch;

/**
 * Where a job is in its life: {@code QUEUED -> PROVISIONING -> RUNNING -> SUCCEEDED | FAILED |
 * CANCELLED}. A preempted or lost attempt sends the job back to {@code QUEUED} while its
 * preemption budget lasts. Every transition is an event.
 */
public enum JobState {
  /** Waiting for a placement. */
  QUEUED,
  /** An attempt's resource is being created. */
  PROVISIONING,
  /** The workload is running. */
  RUNNING,
  /** The workload exited 0. */
  SUCCEEDED,
  /** The workload failed, or the job could not be run within its limits. */
  FAILED,
  /** Cancelled by the host. */
  CANCELLED;

  /** Whether the job has ended. */
  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
