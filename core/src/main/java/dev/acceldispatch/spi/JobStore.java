package dev.acceldispatch.spi;

import dev.acceldispatch.JobQuery;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where jobs, their attempts and their states are kept. The engine writes the job before
 * {@code submit} returns, writes each attempt with its deterministic resource name before it asks
 * a cloud to create anything, and writes every state transition before it acts on it or reports
 * it. The default store keeps everything in memory; a durable store survives a restart.
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

  // ---- Optional: several dispatchers sharing one store -------------------------------------------

  /**
   * Whether several dispatcher instances may share this store. Such a store leases each unfinished
   * job to one instance at a time; the lease methods below must then be implemented.
   */
  default boolean supportsLeases() {
    return false;
  }

  /**
   * Stores a new job already leased to {@code owner} until {@code leaseUntil}, atomically.
   *
   * @throws IllegalStateException when a job with that id exists
   */
  default void insertLeased(JobRecord job, String owner, Instant leaseUntil) {
    throw new UnsupportedOperationException("this store does not support leases");
  }

  /**
   * Leases to {@code owner}, until {@code now + duration}, up to {@code max} unfinished jobs that
   * no instance holds (never leased, or their lease expired before {@code now}), skipping rows
   * another instance is leasing at this moment ({@code FOR UPDATE SKIP LOCKED} or equivalent).
   *
   * @return the jobs newly leased, oldest first
   */
  default List<JobRecord> acquireLeases(String owner, Instant now, Duration duration, int max) {
    throw new UnsupportedOperationException("this store does not support leases");
  }

  /**
   * Extends every lease {@code owner} holds to {@code now + duration} (the heartbeat).
   *
   * @return the ids of the unfinished jobs {@code owner} still holds; a job missing here was taken
   *     over by another instance, and {@code owner} must stop acting on it
   */
  default Set<String> renewLeases(String owner, Instant now, Duration duration) {
    throw new UnsupportedOperationException("this store does not support leases");
  }

  /** Gives up {@code owner}'s lease of a job (it ended, or the instance is closing). */
  default void releaseLease(String owner, String jobId) {
    throw new UnsupportedOperationException("this store does not support leases");
  }

  /**
   * Records that the host asked, through any instance, to cancel a job; the instance holding its
   * lease acts on it.
   *
   * @return false when the job is unknown or already ended
   */
  default boolean requestCancel(String jobId) {
    throw new UnsupportedOperationException("this store does not support leases");
  }

  /** The unfinished jobs leased to {@code owner} whose cancellation was requested. */
  default Set<String> cancelRequests(String owner) {
    throw new UnsupportedOperationException("this store does not support leases");
  }
}
