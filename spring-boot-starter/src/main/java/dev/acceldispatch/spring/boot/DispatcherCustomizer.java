package dev.acceldispatch.spring.boot;

import dev.acceldispatch.Dispatcher;

/**
 * A bean that adjusts the dispatcher's builder after the starter applied the properties, providers,
 * store and listeners: a placement policy, a scheduler, a provider's limits. Customizers run in
 * their {@code @Order}.
 */
@FunctionalInterface
public interface DispatcherCustomizer {
  /** Adjusts {@code builder}; called once, before {@code build()}. */
  void customize(Dispatcher.Builder builder);
}
