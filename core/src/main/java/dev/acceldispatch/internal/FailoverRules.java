package dev.acceldispatch.internal;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.ProviderException;
import java.time.Duration;
import java.time.Instant;

/**
 * What a provider error on a create (or a status that says the create came to nothing) means for
 * the attempt and for the offers: a pure function, so the whole table is tested in one place.
 *
 * <table>
 *   <caption>error to outcome and block</caption>
 *   <tr><th>error</th><th>outcome</th><th>what is set aside</th></tr>
 *   <tr><td>CapacityUnavailable</td><td>CAPACITY</td><td>(provider, zone, shape) and, when
 *       configured, the larger shapes of its type there: a backing-off capacity block</td></tr>
 *   <tr><td>QuotaExceeded</td><td>QUOTA</td><td>the zone, region or provider the quota names, for
 *       {@code quotaBlock}</td></tr>
 *   <tr><td>PermissionDenied / Unauthenticated</td><td>FAILED</td><td>the whole provider, for
 *       {@code quotaBlock} (credentials are per provider)</td></tr>
 *   <tr><td>InvalidRequest</td><td>FAILED</td><td>that offer, for this job only, for good</td></tr>
 *   <tr><td>Transient, Throttled (retries exhausted)</td><td>FAILED</td><td>(provider, zone,
 *       shape) for {@link #TRANSIENT_BLOCK}</td></tr>
 * </table>
 */
final class FailoverRules {
  /** How long a zone and shape are set aside after a create whose transient retries ran out. */
  static final Duration TRANSIENT_BLOCK = Duration.ofMinutes(1);

  /** What to set aside after a failed start. */
  enum SetAside {
    /** A capacity block of the offer's zone and shape, with backoff ({@link OfferHealth#blockForCapacity}). */
    CAPACITY_BLOCK,
    /** The fixed {@link Verdict#block()}. */
    BLOCK,
    /** The offer, for this job, for good. */
    EXCLUDE_OFFER
  }

  /**
   * @param block the block to set when {@link #setAside()} is {@link SetAside#BLOCK}, else null
   */
  record Verdict(AttemptOutcome outcome, SetAside setAside, OfferHealth.Block block) {}

  private FailoverRules() {}

  /** The verdict on a failed start of an attempt on {@code o}. */
  static Verdict onFailedStart(ProviderException e, Offer o, Instant now, Duration quotaBlock) {
    if (e instanceof ProviderException.CapacityUnavailable) {
      return new Verdict(AttemptOutcome.CAPACITY, SetAside.CAPACITY_BLOCK, null);
    }
    if (e instanceof ProviderException.QuotaExceeded q) {
      Instant until = now.plus(quotaBlock);
      String why = "quota: " + e.cloudCode() + " (" + q.scope() + ")";
      OfferHealth.Block b = switch (q.scope()) {
        case ZONE -> new OfferHealth.Block(o.providerId(), null, o.zone(), null, null, until, why);
        case REGION -> new OfferHealth.Block(o.providerId(), o.region(), null, null, null, until, why);
        case PROVIDER -> new OfferHealth.Block(o.providerId(), null, null, null, null, until, why);
      };
      return new Verdict(AttemptOutcome.QUOTA, SetAside.BLOCK, b);
    }
    if (e instanceof ProviderException.PermissionDenied) {
      return new Verdict(AttemptOutcome.FAILED, SetAside.BLOCK,
          new OfferHealth.Block(o.providerId(), null, null, null, null, now.plus(quotaBlock), e.kind() + ": " + e.cloudCode()));
    }
    if (e instanceof ProviderException.InvalidRequest) {
      return new Verdict(AttemptOutcome.FAILED, SetAside.EXCLUDE_OFFER, null);
    }
    return new Verdict(AttemptOutcome.FAILED, SetAside.BLOCK,
        new OfferHealth.Block(o.providerId(), null, o.zone(), o.shape(), null, now.plus(TRANSIENT_BLOCK), e.kind() + ": " + e.cloudCode()));
  }

  /**
   * Whether a failed start may have left a machine that can still run the job's workload: the
   * cloud accepted the create ({@code accepted}: pending too long, a stockout found later), or the
   * error says nothing about whether the create took effect (transient, throttled, timed out, a
   * provider that broke the contract). A definite refusal (capacity, quota, permission, invalid
   * request) made nothing. While such a machine may exist the job starts nowhere else.
   */
  static boolean mayHaveMadeAMachine(ProviderException e, boolean accepted) {
    return accepted || e instanceof ProviderException.Transient || e instanceof ProviderException.Throttled;
  }

  /**
   * Whether an error from a status poll means the attempt failed to start (the cloud gave up on
   * the create: a stockout or quota found after acceptance); any other error is polled again.
   */
  static boolean statusErrorEndsStart(ProviderException e) {
    return e instanceof ProviderException.CapacityUnavailable || e instanceof ProviderException.QuotaExceeded;
  }
}
