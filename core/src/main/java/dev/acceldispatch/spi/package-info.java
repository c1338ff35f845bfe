/**
 * What providers, stores, schedulers and placement policies implement: the provider contract
 * (submit, then poll, then release; deterministic names; idempotent calls), the sealed
 * {@link dev.acceldispatch.spi.ProviderException} taxonomy the engine acts on, optional provider
 * capabilities ({@link dev.acceldispatch.spi.SecretDelivery}), the job store, the
 * engine's scheduler, and placement policies. Public API for implementers.
 */
package dev.acceldispatch.spi;
