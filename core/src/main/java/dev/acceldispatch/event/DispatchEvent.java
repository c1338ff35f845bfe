package dev.acceldispatch.event;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import java.time.Instant;

/**
 * Something that happened in the dispatcher. Every job state transition, attempt start and end,
 * failover and resource release is one event, delivered to every {@link DispatchListener} in the
 * order it happened.
 */
public sealed interface DispatchEvent {
  /** When it happened, by the dispatcher's clock. */
  Instant at();

  /** The job it concerns, or {@code null} for fleet-level events. */
  String jobId();

  /** A job was accepted and stored. */
  record JobSubmitted(Instant at, String jobId, String jobName, String tenant) implements DispatchEvent {}

  /** A job moved from one state to another. */
  record JobStateChanged(Instant at, String jobId, JobState from, JobState to, String reason)
      implements DispatchEvent {}

  /** An attempt began: its resource name is stored and the provider is being asked. */
  record AttemptStarted(Instant at, String jobId, int attempt, Offer offer, boolean spot, String resourceName)
      implements DispatchEvent {}

  /** An attempt ended. */
  record AttemptEnded(
      Instant at, String jobId, int attempt, Offer offer, boolean spot, AttemptOutcome outcome, Money cost,
      String detail) implements DispatchEvent {}

  /**
   * A provision call failed and the job moves on to its next offer.
   *
   * @param kind the failure kind: {@code capacity}, {@code quota}, {@code transient}, …
   * @param blockedUntil until when the engine avoids that offer, or {@code null}
   */
  record Failover(Instant at, String jobId, int attempt, Offer offer, String kind, String message, Instant blockedUntil)
      implements DispatchEvent {}

  /** A resource was released at its provider. */
  record ResourceReleased(Instant at, String jobId, int attempt, String providerId, String resourceName)
      implements DispatchEvent {}

  /** The reconciler released a resource of this fleet that no live attempt owned. */
  record OrphanReleased(Instant at, String providerId, String resourceName, String reason) implements DispatchEvent {
    @Override
    public String jobId() {
      return null;
    }
  }
}
