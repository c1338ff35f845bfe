package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.local.LocalProvider;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The local provider, when enabled and on the class path. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.acceldispatch.local.LocalProvider")
@ConditionalOnProperty(prefix = "acceldispatch.providers.local", name = "enabled", havingValue = "true")
class LocalProviderConfiguration {

  @Bean
  @ConditionalOnMissingBean
  LocalProvider accelDispatchLocalProvider(AccelDispatchProperties properties) {
    AccelDispatchProperties.Local p = properties.providers().local();
    Path state = p.stateDirectory() != null
        ? p.stateDirectory()
        : Path.of(System.getProperty("user.home"), ".accel-dispatch", "local");
    LocalProvider.Builder b = LocalProvider.builder(state);
    Settings.ifSet(p.id(), b::id);
    Settings.ifSet(p.logDirectory(), b::logDirectory);
    Settings.ifSet(p.cpuSlots(), b::cpuSlots);
    Settings.ifSet(p.hostName(), b::hostName);
    Settings.ifSetStrings(p.passEnvironment(), b::passEnvironment);
    Settings.ifSet(p.terminationGrace(), b::terminationGrace);
    return b.build();
  }
}
