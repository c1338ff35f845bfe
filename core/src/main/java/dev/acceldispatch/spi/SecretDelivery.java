package dev.acceldispatch.spi;

import dev.acceldispatch.Secret;
import java.util.Set;

/**
 * An optional capability of a {@link Provider}: which kinds of {@link Secret} its machines can be
 * given. A provider implements it next to {@code Provider}; the engine reads it once, at build.
 *
 * <p>At {@code submit} (and in {@code plan}), an offer whose provider cannot deliver one of the
 * job's {@code secretEnv} kinds is ruled out, with a reason naming the variable and the kind (a
 * reference, never a value); when that rules out every offer, {@code submit} throws {@link
 * dev.acceldispatch.NoFeasibleOfferException} instead of the job failing at launch.
 *
 * <p>A provider that does not implement this is assumed able to deliver every kind, so providers
 * written before it keep working: they refuse what they cannot deliver at {@link
 * Provider#provision} with a {@link ProviderException.InvalidRequest}, as before. A provider that
 * wraps another (for metrics, say) should answer for the one it wraps.
 */
public interface SecretDelivery {

  /**
   * The kinds this provider's machines can be given, as configured: for example the literal and
   * dispatcher-host kinds only when a secret store is wired to fetch them on the machine, and the
   * cloud secret store its machines read with their own identity. {@link Secret.Kind#UNAVAILABLE}
   * is not consulted (such a value fails at launch with the store's reason, wherever it runs).
   *
   * @return the kinds, never {@code null}; the same for the provider's whole life
   */
  Set<Secret.Kind> deliverableSecretKinds();
}
