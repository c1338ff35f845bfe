package dev.acceldispatch.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A {@link JobStore} that several dispatcher instances may share: it leases each unfinished job
 * to one instance at a time. A dispatcher built on a store of this type runs every job under a
 * lease (inserted leased, renewed by a heartbeat every third of the lease, given back when the
 * job ends or the dispatcher closes) and takes over jobs whose owner's lease expired; on a plain
 * {@link JobStore} it is the only owner of every job in it.
 *
 * <p>Implementations must be thread-safe and pass the testkit's {@code JobStoreContractTest},
 * which checks these methods whenever the store under test implements this interface.
 */
public interface LeasingJobStore extends JobStore {

  /**
   * Stores a new job already leased to {@code owner} until {@code leaseUntil}, atomically.
   *
   * @throws IllegalStateException when a job with that id exists
   */
  void insertLeased(JobRecord job, String owner, Instant leaseUntil);

  /**
   * Leases to {@code owner}, until {@code now + duration}, up to {@code max} unfinished jobs that
   * no instance holds (never leased, given back, or their lease expired before {@code now}),
   * skipping rows another instance is leasing at this moment ({@code FOR UPDATE SKIP LOCKED} or
   * equivalent).
   *
   * @return the jobs newly leased, oldest first
   */
  List<JobRecord> acquireLeases(String owner, Instant now, Duration duration, int max);

  /**
   * Extends every lease {@code owner} holds to {@code now + duration} (the heartbeat).
   *
   * @return the ids of the unfinished jobs {@code owner} still holds; a job missing here was taken
   *     over by another instance, and {@code owner} must stop acting on it
   */
  Set<String> renewLeases(String owner, Instant now, Duration duration);

  /**
   * Gives up {@code owner}'s lease of a job (it ended, or the instance is closing), so that
   * another instance may lease it at once. Giving back a lease {@code owner} does not hold, or of
   * an unknown job, changes nothing.
   */
  void releaseLease(String owner, String jobId);

  /**
   * Records that the host asked, through any instance, to cancel a job; the instance holding its
   * lease acts on it at its next heartbeat.
   *
   * @return false when the job is unknown or already ended
   */
  boolean requestCancel(String jobId);

  /** The unfinished jobs leased to {@code owner} whose cancellation was requested. */
  Set<String> cancelRequests(String owner);
}
