package dev.acceldispatch.spring.boot.autoconfigure;

import com.google.api.gax.core.CredentialsProvider;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import java.io.IOException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Cloud TPU provider, when enabled and on the class path, on the application's {@link
 * TpuClient} or one made with the application's credentials.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.acceldispatch.gcp.tpu.GcpTpuProvider")
@ConditionalOnProperty(prefix = "acceldispatch.providers.gcp-tpu", name = "enabled", havingValue = "true")
class GcpTpuProviderConfiguration {
  private static final String PREFIX = "acceldispatch.providers.gcp-tpu";

  /** Closed with the context; a client the application made is the application's to close. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  TpuClient accelDispatchTpuClient(ObjectProvider<CredentialsProvider> credentials) throws IOException {
    return TpuClient.create(GoogleClients.withHostCredentials(TpuSettings.newBuilder(), credentials).build());
  }

  @Bean
  @ConditionalOnMissingBean
  GcpTpuProvider accelDispatchGcpTpuProvider(TpuClient client, AccelDispatchProperties properties) {
    AccelDispatchProperties.GcpTpu p = properties.providers().gcpTpu();
    GcpTpuProvider.Builder b = GcpTpuProvider.builder(client).project(p.project());
    Settings.ifSetStrings(p.zones(), b::zones);
    Settings.ifSet(p.id(), b::id);
    Settings.ifSet(p.slices(), s -> b.slices(s.toArray(Integer[]::new)));
    Settings.ifSet(p.runtimeVersion(), b::runtimeVersion);
    Settings.ifSet(p.serviceAccount(), b::serviceAccount);
    Settings.ifSet(p.egress(), e -> b.egress(GoogleClients.networkEgress(e, PREFIX + ".egress")));
    Settings.ifSet(p.externalIp(), b::externalIp);
    Settings.ifSet(p.callTimeout(), b::callTimeout);
    GoogleClients.requireEgress(p.egress(), p.externalIp(), PREFIX);
    return b.build();
  }
}
