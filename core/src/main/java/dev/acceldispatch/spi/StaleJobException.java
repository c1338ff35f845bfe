package dev.acceldispatch.spi;

import dev.acceldispatch.DispatchException;

/** A {@link JobStore} update lost an optimistic-locking race: the job changed since it was read. */
public final class StaleJobException extends DispatchException {
  private static final long serialVersionUID = 1L;
  /** The job whose update lost the race. */
  private final String jobId;

  /** For this job, with the versions that disagreed. */
  public StaleJobException(String jobId, long expected, long actual) {
    super("job " + jobId + " was updated concurrently: expected version " + expected + ", store has " + actual);
    this.jobId = jobId;
  }

  /** The job. */
  public String jobId() {
    return jobId;
  }
}
