package dev.acceldispatch.testkit.cloud;

import java.time.Instant;
import java.util.Map;

/**
 * What the {@link CloudModel} says about one resource at one moment.
 *
 * @param name the resource name
 * @param request what it was allocated as
 * @param phase where it is
 * @param exitCode the workload's planned exit code, once {@link Phase#EXITED}
 * @param createdAt when it was allocated
 * @param runningAt when it starts (or started) running
 * @param endsAt when its workload ends (or ended), or when it was preempted
 * @param labels the labels the emulator recorded for it
 */
public record SimulatedResource(
    String name, AllocationRequest request, Phase phase, Integer exitCode, Instant createdAt,
    Instant runningAt, Instant endsAt, Map<String, String> labels) {

  /**
   * What a provider reports for this resource: provisioning is pending, an ended workload is its
   * exit code, a preemption is a preemption. In-process providers on the model share this mapping.
   */
  public dev.acceldispatch.spi.ResourceStatus toStatus() {
    return switch (phase) {
      case PROVISIONING -> dev.acceldispatch.spi.ResourceStatus.pending("provisioning");
      case RUNNING -> dev.acceldispatch.spi.ResourceStatus.running("running");
      case EXITED -> dev.acceldispatch.spi.ResourceStatus.exited(exitCode, "exited " + exitCode);
      case PREEMPTED -> dev.acceldispatch.spi.ResourceStatus.preempted("preempted");
    };
  }

  /** Where a simulated resource is. */
  public enum Phase {
    /** Being provisioned (booting). */
    PROVISIONING,
    /** Running its workload. */
    RUNNING,
    /** The workload ended; {@link #exitCode()} says how. */
    EXITED,
    /** Taken back by the cloud. */
    PREEMPTED
  }
}
