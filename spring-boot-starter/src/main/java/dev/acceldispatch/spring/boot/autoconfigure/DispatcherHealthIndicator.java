package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.TenantUsage;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.Provider;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Down when the store cannot be read; otherwise up, with the store, the providers and their offers,
 * and the configured tenants' usage as details. The engine's circuit breakers are not part of the
 * dispatcher's public API, so they are not reported here.
 */
final class DispatcherHealthIndicator implements HealthIndicator {
  /** A job id no dispatcher makes: reading it proves the store answers without touching a job. */
  static final String PROBE_ID = "acceldispatch-health-probe";

  private final Dispatcher dispatcher;
  private final JobStore store;
  private final List<Provider> providers;
  private final Set<String> tenants;
  private final String fleetId;

  DispatcherHealthIndicator(Dispatcher dispatcher, JobStore store, List<Provider> providers, Set<String> tenants,
      String fleetId) {
    this.dispatcher = dispatcher;
    this.store = store;
    this.providers = List.copyOf(providers);
    this.tenants = Set.copyOf(tenants);
    this.fleetId = fleetId;
  }

  @Override
  public Health health() {
    Map<String, Object> storeDetails = new LinkedHashMap<>();
    storeDetails.put("type", store.getClass().getSimpleName());
    storeDetails.put("durable", store.isDurable());
    Health.Builder health;
    try {
      store.find(PROBE_ID);
      storeDetails.put("reachable", true);
      health = Health.up();
    } catch (RuntimeException e) {
      storeDetails.put("reachable", false);
      // The exception's class only: a JDBC message may hold a URL with a user name.
      storeDetails.put("error", e.getClass().getSimpleName());
      health = Health.down();
    }
    Map<String, Object> providerDetails = new LinkedHashMap<>();
    for (Provider p : providers) {
      providerDetails.put(p.id(), Map.of("offers", p.offers().size()));
    }
    Map<String, Object> tenantDetails = new LinkedHashMap<>();
    for (String t : tenants.stream().sorted().toList()) {
      TenantUsage u = dispatcher.usage(t);
      tenantDetails.put(t, Map.of("queuedJobs", u.queuedJobs(), "devicesInUse", u.devicesInUse(),
          "spent", u.spent().toString(), "hourlySpend", u.hourlySpend().toString()));
    }
    return health.withDetail("fleetId", fleetId).withDetail("store", storeDetails)
        .withDetail("providers", providerDetails).withDetail("tenants", tenantDetails).build();
  }
}
