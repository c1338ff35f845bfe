package dev.acceldispatch.spi;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What the engine asks a provider to create for one attempt.
 *
 * @param resourceName the deterministic name, made by the engine from the job id and attempt
 *     number: lowercase letters, digits and '-', starting with a letter, at most 40 characters, so
 *     it fits every cloud's naming rules as it is. Creating it twice must adopt, not duplicate.
 * @param fleetId the dispatcher fleet that owns the resource; providers label the resource with it
 * @param jobId the job
 * @param attempt the attempt number, from 1
 * @param offer the offer chosen
 * @param spot whether to use the offer's spot tier
 * @param workload what to run, with the engine's {@code ACCEL_DISPATCH_*} variables added
 * @param labels labels to put on the resource, unsanitised: each provider makes them fit its
 *     cloud's rules (the fleet, job and attempt labels are added by the provider)
 * @param startDeadline when the request stops being useful: a queueing cloud (TPU queued
 *     resources) should give up on it then; {@code null} for no deadline
 */
public record ProvisionRequest(
    String resourceName,
    String fleetId,
    String jobId,
    int attempt,
    Offer offer,
    boolean spot,
    Workload workload,
    Map<String, String> labels,
    Instant startDeadline) {

  /** Label key naming the fleet. */
  public static final String LABEL_FLEET = "accel-dispatch-fleet";
  /** Label key naming the job. */
  public static final String LABEL_JOB = "accel-dispatch-job";
  /** Label key naming the attempt. */
  public static final String LABEL_ATTEMPT = "accel-dispatch-attempt";

  /** Validates. */
  public ProvisionRequest {
    Objects.requireNonNull(resourceName, "resourceName");
    Objects.requireNonNull(fleetId, "fleetId");
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(offer, "offer");
    Objects.requireNonNull(workload, "workload");
    labels = Map.copyOf(labels);
    if (!resourceName.matches("[a-z]([-a-z0-9]{0,38}[a-z0-9])?")) {
      throw new IllegalArgumentException("resourceName must match [a-z]([-a-z0-9]{0,38}[a-z0-9])?, got " + resourceName);
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
    if (spot && offer.spotHourly() == null) {
      throw new IllegalArgumentException("spot requested but offer " + offer.key() + " has no spot tier");
    }
  }

  /** The fleet, job and attempt labels every provider puts on the resource. */
  public Map<String, String> ownershipLabels() {
    return Map.of(LABEL_FLEET, fleetId, LABEL_JOB, jobId, LABEL_ATTEMPT, Integer.toString(attempt));
  }
}
