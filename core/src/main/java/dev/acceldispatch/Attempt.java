package dev.acceldispatch;

import dev.acceldispatch.spi.ProvisionedResource;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One try of a job on one offer.
 *
 * @param number the attempt number, from 1; the workload sees it as {@code ACCEL_DISPATCH_ATTEMPT}
 * @param offer the offer used
 * @param spot whether the spot tier was used
 * @param resourceName the deterministic resource name, recorded before the cloud was asked
 * @param resource what the provider returned, once it accepted the request; {@code null} before
 * @param startedAt when the attempt began (before the provision call)
 * @param runningAt when it was first seen running, or {@code null}
 * @param endedAt when it ended, or {@code null} while it is live
 * @param outcome how it ended, or {@code null} while it is live
 * @param cost what it cost: hourly price times the time the resource was held
 * @param detail the cloud's or the engine's words on how it ended
 */
public record Attempt(
    int number,
    Offer offer,
    boolean spot,
    String resourceName,
    ProvisionedResource resource,
    Instant startedAt,
    Instant runningAt,
    Instant endedAt,
    AttemptOutcome outcome,
    Money cost,
    String detail) {

  /** Validates. */
  public Attempt {
    Objects.requireNonNull(offer, "offer");
    Objects.requireNonNull(resourceName, "resourceName");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(cost, "cost");
    detail = detail == null ? "" : detail;
    if (number < 1) {
      throw new IllegalArgumentException("number must be >= 1, got " + number);
    }
  }

  /** Whether the attempt has not ended. */
  public boolean isLive() {
    return outcome == null;
  }

  /** The resource, once the provider has accepted it. */
  public Optional<ProvisionedResource> provisioned() {
    return Optional.ofNullable(resource);
  }

  /** How long the attempt ran (or has run so far, up to {@code now}). */
  public Duration runTime(Instant now) {
    if (runningAt == null) {
      return Duration.ZERO;
    }
    return Duration.between(runningAt, endedAt == null ? now : endedAt);
  }

  /** The hourly price of the tier used. */
  public Money hourlyPrice() {
    return offer.hourly(spot);
  }
}
