package dev.acceldispatch.micrometer;

import dev.acceldispatch.Offer;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The offers the dispatcher has said it avoids, and until when, as far as its failover events
 * tell. Read by gauges from the registry's thread while the listener writes.
 */
final class OfferBlocks {
  private final Clock clock;
  /** Offer key to the end of its block, per provider. */
  private final Map<String, Map<String, Instant>> byProvider = new ConcurrentHashMap<>();

  OfferBlocks(Clock clock) {
    this.clock = clock;
  }

  /**
   * Records a block, extending an earlier one.
   *
   * @return whether this is the provider's first block (its gauge is then registered)
   */
  boolean block(Offer offer, Instant until) {
    boolean first = !byProvider.containsKey(offer.providerId());
    byProvider.computeIfAbsent(offer.providerId(), p -> new ConcurrentHashMap<>())
        .merge(offer.key(), until, (a, b) -> a.isAfter(b) ? a : b);
    return first;
  }

  /** Offers of the provider blocked now; expired blocks are dropped as they are met. */
  int blockedNow(String providerId) {
    Map<String, Instant> blocks = byProvider.get(providerId);
    if (blocks == null) {
      return 0;
    }
    Instant now = clock.instant();
    blocks.values().removeIf(until -> !until.isAfter(now));
    return blocks.size();
  }
}
