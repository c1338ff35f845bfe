package dev.acceldispatch;

/** How one attempt ended. */
public enum AttemptOutcome {
  /** The workload exited 0. */
  SUCCEEDED,
  /** The workload exited non-zero, or the provider failed the attempt for good. */
  FAILED,
  /** The cloud took the machine back before the workload ended. */
  PREEMPTED,
  /** The zone had no capacity; the job failed over. */
  CAPACITY,
  /** A quota forbade it; the job failed over. */
  QUOTA,
  /** Cancelled: by the host, by a timeout, or as a hedge that lost the race. */
  CANCELLED,
  /** The resource vanished without a word. */
  LOST
}
