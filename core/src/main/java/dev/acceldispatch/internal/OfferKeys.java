package dev.acceldispatch.internal;

import dev.acceldispatch.Offer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link Offer#key()} of every wired offer, computed once. Placement looks offers up by key
 * thousands of times per decision, and a record cannot cache its own derived string; offers from
 * providers are the same instances for the engine's whole life, so an identity map serves them.
 * Read-only after construction, so safe from any thread.
 */
final class OfferKeys {
  private final Map<Offer, String> keys = new IdentityHashMap<>();

  OfferKeys(List<Offer> offers) {
    for (Offer o : offers) {
      keys.put(o, o.key());
    }
  }

  /** The key; computed afresh for an offer that is not one of the wired instances (a stored one). */
  String of(Offer o) {
    String k = keys.get(o);
    return k != null ? k : o.key();
  }
}
