package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code accelDispatch} Actuator health indicator, when Spring Boot's health support is on the
 * class path and {@code management.health.acceldispatch.enabled} is not false.
 */
@AutoConfiguration(after = AccelDispatchAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(Dispatcher.class)
@ConditionalOnEnabledHealthIndicator("acceldispatch")
public class AccelDispatchHealthAutoConfiguration {

  /** Created by Spring. */
  public AccelDispatchHealthAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean(name = "accelDispatchHealthIndicator")
  HealthIndicator accelDispatchHealthIndicator(
      Dispatcher dispatcher, JobStore store, ObjectProvider<Provider> providers, AccelDispatchProperties properties) {
    return new DispatcherHealthIndicator(dispatcher, store, providers.orderedStream().toList(),
        properties.tenants().keySet(), properties.fleetId());
  }
}
