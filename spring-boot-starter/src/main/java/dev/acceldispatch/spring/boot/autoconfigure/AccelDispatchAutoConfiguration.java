package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.Money;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.micrometer.DispatchMetrics;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import dev.acceldispatch.spring.boot.DispatcherCustomizer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * A {@link Dispatcher} bean built from the {@code acceldispatch.*} properties, wired to every
 * {@link Provider} bean (the starter's own and the application's), the application's store or one
 * chosen for it, every {@link DispatchListener} bean, the application's {@link MeterRegistry}, and
 * shaped last by every {@link DispatcherCustomizer} bean. The dispatcher is closed with the
 * application context. No provider bean, no dispatcher: a service that adds the starter without
 * configuring a provider still starts.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
    })
@ConditionalOnProperty(prefix = "acceldispatch", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(AccelDispatchProperties.class)
@Import({
  LocalProviderConfiguration.class,
  GcpTpuProviderConfiguration.class,
  GcpGpuProviderConfiguration.class,
  AzureGpuProviderConfiguration.class,
  JdbcStoreConfiguration.class,
  AccelDispatchAutoConfiguration.MetricsConfiguration.class
})
public class AccelDispatchAutoConfiguration {
  private static final Logger log = LoggerFactory.getLogger(AccelDispatchAutoConfiguration.class);

  /** Created by Spring. */
  public AccelDispatchAutoConfiguration() {}

  /** In memory, unless the application has a store, or the JDBC store was configured first. */
  @Bean
  @ConditionalOnMissingBean
  JobStore accelDispatchJobStore(AccelDispatchProperties properties) {
    if (properties.store().type() == AccelDispatchProperties.StoreType.JDBC) {
      throw new IllegalStateException("acceldispatch.store.type=jdbc needs a DataSource bean and "
          + "dev.acceldispatch:accel-dispatch-jdbc-store on the class path; found no JDBC store to build");
    }
    return new InMemoryJobStore();
  }

  /** The dispatcher, closed (gracefully: see {@link Dispatcher#close()}) when the context closes. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnBean(Provider.class)
  Dispatcher accelDispatcher(
      AccelDispatchProperties properties,
      ObjectProvider<Provider> providers,
      JobStore store,
      ObjectProvider<DispatchListener> listeners,
      ObjectProvider<DispatchMetrics> metrics,
      ObjectProvider<DispatcherCustomizer> customizers) {
    Dispatcher.Builder b = Dispatcher.builder().fleetId(properties.fleetId()).store(store);
    DispatchMetrics meters = metrics.getIfUnique();
    providers.orderedStream().forEach(p -> b.provider(meters == null ? p : meters.instrument(p)));
    listeners.orderedStream().forEach(b::listener);
    properties.tenants().forEach((name, t) -> b.tenant(name, quota(name, t)));
    applyEngine(properties.engine(), b);
    customizers.orderedStream().forEach(c -> c.customize(b));
    if (properties.dashboard().enabled()) {
      log.warn("acceldispatch.dashboard.enabled is set, but this release has no dashboard; the setting is reserved");
    }
    Dispatcher dispatcher = b.build();
    if (meters != null) {
      meters.bindTo(dispatcher);
    }
    return dispatcher;
  }

  static TenantQuota quota(String tenant, AccelDispatchProperties.Tenant t) {
    TenantQuota q = TenantQuota.UNLIMITED;
    try {
      if (t.weight() != null) {
        q = q.withWeight(t.weight());
      }
      if (t.maxConcurrentDevices() != null) {
        q = q.withMaxConcurrentDevices(t.maxConcurrentDevices());
      }
      if (t.maxHourlySpend() != null) {
        q = q.withMaxHourlySpend(new Money(t.maxHourlySpend()));
      }
      if (t.budget() != null) {
        q = q.withBudget(new Money(t.budget()));
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("acceldispatch.tenants." + tenant + ": " + e.getMessage(), e);
    }
    return q;
  }

  static void applyEngine(AccelDispatchProperties.Engine e, Dispatcher.Builder b) {
    Settings.ifSet(e.maxQueuedJobs(), b::maxQueuedJobs);
    if (e.capacityBlock() != null) {
      if (e.capacityBlockMax() != null) {
        b.capacityBlock(e.capacityBlock(), e.capacityBlockMax());
      } else {
        b.capacityBlock(e.capacityBlock());
      }
    } else if (e.capacityBlockMax() != null) {
      throw new IllegalArgumentException("acceldispatch.engine.capacity-block-max needs capacity-block");
    }
    Settings.ifSet(e.stockoutCoversLargerShapes(), b::stockoutCoversLargerShapes);
    Settings.ifSet(e.quotaBlock(), b::quotaBlock);
    Settings.ifSet(e.preemptionPenalty(), b::preemptionPenalty);
    if ((e.pollInterval() == null) != (e.pollIntervalMax() == null)) {
      throw new IllegalArgumentException("acceldispatch.engine.poll-interval and poll-interval-max are set together");
    }
    if (e.pollInterval() != null) {
      b.pollInterval(e.pollInterval(), e.pollIntervalMax());
    }
    Settings.ifSet(e.reconcileInterval(), b::reconcileInterval);
    Settings.ifSet(e.releaseRetryInterval(), b::releaseRetryInterval);
    Settings.ifSet(e.shutdownTimeout(), b::shutdownTimeout);
    Settings.ifSet(e.defaultSpotPreemptionsPerHour(), b::defaultSpotPreemptionsPerHour);
    Settings.ifSet(e.checkpointRestartOverhead(), b::checkpointRestartOverhead);
    Settings.ifSet(e.pendingTimeout(), b::pendingTimeout);
    Settings.ifSet(e.leaseDuration(), b::leaseDuration);
  }

  /** The dispatcher's meters in the application's registry, tagged with the fleet id. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  @ConditionalOnBean(MeterRegistry.class)
  @ConditionalOnProperty(prefix = "acceldispatch.metrics", name = "enabled", havingValue = "true", matchIfMissing = true)
  static class MetricsConfiguration {
    @Bean
    @ConditionalOnMissingBean
    DispatchMetrics accelDispatchMetrics(MeterRegistry registry, AccelDispatchProperties properties) {
      return DispatchMetrics.builder(registry).tags(Tags.of("fleet", properties.fleetId())).build();
    }
  }
}
