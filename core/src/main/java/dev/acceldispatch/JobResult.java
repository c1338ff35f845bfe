package dev.acceldispatch;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How a job ended.
 *
 * @param jobId the job
 * @param state {@code SUCCEEDED}, {@code FAILED} or {@code CANCELLED}
 * @param attempts every attempt, in order
 * @param cost the total over all attempts
 * @param message why it ended so, in words
 * @param exitCode the workload's exit code, when it ran to an end
 * @param attributes what the provider reported with the workload's end, from its last status
 *     (the local provider: {@code log.dir}, {@code log.stdout}, {@code log.stderr}, {@code
 *     devices}, {@code pid}; the cloud providers: none); empty when the job was cancelled or failed
 *     before a status reported them, in which case each attempt's {@link Attempt#resource()} still
 *     carries the provider's resource attributes
 */
public record JobResult(
    String jobId,
    JobState state,
    List<Attempt> attempts,
    Money cost,
    String message,
    Integer exitCode,
    Map<String, String> attributes) {

  /** Validates and copies. */
  public JobResult {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(cost, "cost");
    attempts = List.copyOf(attempts);
    attributes = Map.copyOf(attributes);
    message = message == null ? "" : message;
    if (!state.isTerminal()) {
      throw new IllegalArgumentException("a result needs a terminal state, got " + state);
    }
  }

  /** The last attempt, if there was one. */
  public Optional<Attempt> lastAttempt() {
    return attempts.isEmpty() ? Optional.empty() : Optional.of(attempts.get(attempts.size() - 1));
  }
}
