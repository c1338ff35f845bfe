package dev.acceldispatch.spi;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A job as a {@link JobStore} keeps it. Immutable; the engine writes a new one for every change.
 *
 * @param id the job id
 * @param spec what was submitted
 * @param state the current state
 * @param version the optimistic-locking version: the store accepts an update only when it holds
 *     this version, and stores the record with version + 1
 * @param submittedAt when it was submitted
 * @param updatedAt when this record was written
 * @param attempts every attempt so far, in order
 * @param preemptions attempts lost to preemption or disappearance (counted against the budget)
 * @param message why the job is in its state, in words
 * @param exitCode the workload's exit code once it ended, else {@code null}
 * @param resultAttributes what the provider reported with the end
 */
public record JobRecord(
    String id,
    JobSpec spec,
    JobState state,
    long version,
    Instant submittedAt,
    Instant updatedAt,
    List<dev.acceldispatch.Attempt> attempts,
    int preemptions,
    String message,
    Integer exitCode,
    Map<String, String> resultAttributes) {

  /** Validates and copies. */
  public JobRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(submittedAt, "submittedAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    attempts = List.copyOf(attempts);
    resultAttributes = resultAttributes == null ? Map.of() : Map.copyOf(resultAttributes);
    message = message == null ? "" : message;
  }

  /** The sum of every attempt's cost. */
  public Money cost() {
    Money m = Money.ZERO;
    for (Attempt a : attempts) {
      m = m.plus(a.cost());
    }
    return m;
  }

  /** A copy with another version (stores use it when they accept an update). */
  public JobRecord withVersion(long v) {
    return new JobRecord(id, spec, state, v, submittedAt, updatedAt, attempts, preemptions, message, exitCode, resultAttributes);
  }
}
