package dev.acceldispatch.internal;

import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What placement remembers about one queued job between dispatch passes: the offers it must never
 * use again, what it may ever run on (its {@link Placement.StaticFit}, recomputed only when its
 * preemptions or exclusions change), and until when and why it waits. Engine thread only.
 */
final class PlacementMemo {
  /** Offer key to the provider's refusal there, in its own words (code and message). */
  private final Map<String, String> excludedOffers = new HashMap<>();
  /** The last outright refusal of this job's request by a provider (invalid, permission), or null. */
  private String lastRefusal;
  private Placement.StaticFit staticFit;
  private Instant waitUntil;
  private Supplier<String> waitReason = () -> "";

  Map<String, String> excludedOffers() {
    return Collections.unmodifiableMap(excludedOffers);
  }

  /**
   * The offer refused this job's request as invalid: never try it again for this job.
   *
   * @param refusal the provider's code and message, which the job's final message repeats (a
   *     provider's message never holds a secret value)
   */
  void exclude(String offerKey, String refusal) {
    excludedOffers.put(offerKey, refusal);
    lastRefusal = refusal;
  }

  /** A provider refused the job's request outright without it excluding the offer (a permission). */
  void refused(String refusal) {
    lastRefusal = refusal;
  }

  /** The last outright refusal of this job's request by a provider, or null: what a user must fix. */
  String lastRefusal() {
    return lastRefusal;
  }

  /** What the job may ever run on ({@link Placement.StaticFit}), recomputed when stale. */
  Placement.StaticFit staticFit(Placement placement, dev.acceldispatch.JobSpec spec, int preemptions) {
    if (staticFit == null || !staticFit.isFor(preemptions, excludedOffers)) {
      staticFit = placement.staticFit(spec, preemptions, excludedOffers);
    }
    return staticFit;
  }

  /**
   * While queued: no offer can be available for it before this (its last evaluation found only
   * blocks, the first ending then), so dispatch passes skip it until then; null to look every pass.
   */
  Instant waitUntil() {
    return waitUntil;
  }

  /** Records why (in words built only if asked) and until when the job waits. */
  void waitFor(Instant until, Supplier<String> why) {
    this.waitUntil = until;
    this.waitReason = why;
  }

  /** Looks at the job on the next pass again (it was queued again: its obstacles may be gone). */
  void clearWaitUntil() {
    this.waitUntil = null;
  }

  /** Why the job could not be placed last time. */
  String waitReason() {
    return waitReason.get();
  }
}
