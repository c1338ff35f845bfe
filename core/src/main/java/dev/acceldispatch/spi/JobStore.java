package dev.acceldispatch.spi;

import dev.acceldispatch.JobQuery;
import java.util.List;
import java.util.Optional;

/**
 * Where jobs, their attempts and their states are kept. The engine writes the job before
 * {@code submit} returns, writes each attempt with its deterministic resource name before it asks
 * a cloud to create anything, and writes every state transition before it acts on it or reports
 * it. The default store keeps everything in memory; a durable store survives a restart.
 *
 * <p>A store that several dispatcher instances may share implements {@link LeasingJobStore}.
 *
 * <p>Implementations must be thread-safe and pass the testkit's {@code JobStoreContractTest}.
 */
public interface JobStore {

  /**
   * Stores a new job (its version is 0).
   *
   * @throws IllegalStateException when a job with that id exists
   */
  void insert(JobRecord job);

  /**
   * Replaces a job, if the store still holds {@code job.version()}; stores it with version + 1.
   *
   * @return the stored record, with its new version
   * @throws StaleJobException when the store holds another version (someone else updated it)
   */
  JobRecord update(JobRecord job);

  /** The job with this id. */
  Optional<JobRecord> find(String jobId);

  /** Every job not in a terminal state, oldest first. */
  List<JobRecord> unfinished();

  /**
   * One page of the jobs {@code query} selects, finished or not: those {@link JobQuery#matches
   * matching} it, newest first (submission time, then id, both descending), at most {@link
   * JobQuery#limit()} of them, starting strictly after {@link JobQuery#after()}. Another process on
   * the same durable store sees the same jobs.
   */
  List<JobRecord> query(JobQuery query);

  /**
   * Whether the store survives a restart of the process. A dispatcher on a non-durable store
   * releases every live resource when it is closed, since nothing could find them again.
   */
  default boolean isDurable() {
    return false;
  }
}
