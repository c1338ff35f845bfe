package dev.acceldispatch.spi;

import java.util.Map;
import java.util.Objects;

/**
 * What a provider reports about one resource.
 *
 * @param phase where it is in its life
 * @param exitCode the workload's exit code once it has ended ({@link Phase#SUCCEEDED} has 0,
 *     {@link Phase#FAILED} has the non-zero code, or -1 when the cloud failed the resource without
 *     an exit code); {@code null} otherwise
 * @param detail the cloud's own words for the state, for logs and results
 * @param attributes extra facts for the job's result (for example a log location)
 */
public record ResourceStatus(Phase phase, Integer exitCode, String detail, Map<String, String> attributes) {

  /** Where a resource is in its life. */
  public enum Phase {
    /** Accepted, not yet running (queued, provisioning, booting). */
    PENDING,
    /** Running the workload. */
    RUNNING,
    /** The workload exited 0. */
    SUCCEEDED,
    /** The workload exited non-zero, or the cloud failed the resource for good. */
    FAILED,
    /** The cloud took the machine back (spot preemption, maintenance) before the workload ended. */
    PREEMPTED,
    /** The resource does not exist (deleted, or never created). */
    GONE;

    /** Whether the resource's life is over. */
    public boolean isTerminal() {
      return this != PENDING && this != RUNNING;
    }
  }

  /** Validates and copies. */
  public ResourceStatus {
    Objects.requireNonNull(phase, "phase");
    detail = detail == null ? "" : detail;
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    if (phase == Phase.SUCCEEDED && (exitCode == null || exitCode != 0)) {
      throw new IllegalArgumentException("SUCCEEDED needs exit code 0, got " + exitCode);
    }
    if (phase == Phase.FAILED && exitCode == null) {
      throw new IllegalArgumentException("FAILED needs an exit code (-1 when the cloud gave none)");
    }
  }

  /** Pending, with the cloud's words. */
  public static ResourceStatus pending(String detail) {
    return new ResourceStatus(Phase.PENDING, null, detail, Map.of());
  }

  /** Running, with the cloud's words. */
  public static ResourceStatus running(String detail) {
    return new ResourceStatus(Phase.RUNNING, null, detail, Map.of());
  }

  /** Ended with this exit code: succeeded when 0, failed otherwise. */
  public static ResourceStatus exited(int exitCode, String detail) {
    return new ResourceStatus(exitCode == 0 ? Phase.SUCCEEDED : Phase.FAILED, exitCode, detail, Map.of());
  }

  /** Preempted by the cloud. */
  public static ResourceStatus preempted(String detail) {
    return new ResourceStatus(Phase.PREEMPTED, null, detail, Map.of());
  }

  /** Does not exist. */
  public static ResourceStatus gone(String detail) {
    return new ResourceStatus(Phase.GONE, null, detail, Map.of());
  }

  /** A copy with these attributes. */
  public ResourceStatus withAttributes(Map<String, String> attributes) {
    return new ResourceStatus(phase, exitCode, detail, attributes);
  }
}
