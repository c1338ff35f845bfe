package dev.acceldispatch.spring.boot.autoconfigure;

import com.google.api.gax.core.CredentialsProvider;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import java.io.IOException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Compute Engine GPU provider, when enabled and on the class path, on the application's
 * {@link InstancesClient} and {@link ZoneOperationsClient} or ones made with the application's
 * credentials.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.acceldispatch.gcp.gpu.GcpGpuProvider")
@ConditionalOnProperty(prefix = "acceldispatch.providers.gcp-gpu", name = "enabled", havingValue = "true")
class GcpGpuProviderConfiguration {

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  InstancesClient accelDispatchInstancesClient(ObjectProvider<CredentialsProvider> credentials) throws IOException {
    return InstancesClient.create(GoogleClients.withHostCredentials(InstancesSettings.newBuilder(), credentials).build());
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  ZoneOperationsClient accelDispatchZoneOperationsClient(ObjectProvider<CredentialsProvider> credentials)
      throws IOException {
    return ZoneOperationsClient.create(
        GoogleClients.withHostCredentials(ZoneOperationsSettings.newBuilder(), credentials).build());
  }

  @Bean
  @ConditionalOnMissingBean
  GcpGpuProvider accelDispatchGcpGpuProvider(
      InstancesClient instances, ZoneOperationsClient operations, AccelDispatchProperties properties) {
    AccelDispatchProperties.GcpGpu p = properties.providers().gcpGpu();
    GcpGpuProvider.Builder b = GcpGpuProvider.builder(instances, operations).project(p.project());
    Settings.ifSetStrings(p.zones(), b::zones);
    Settings.ifSet(p.id(), b::id);
    Settings.ifSet(p.spot(), b::spot);
    Settings.ifSet(p.bootImage(), b::bootImage);
    Settings.ifSet(p.bootDiskGb(), b::bootDiskGb);
    Settings.ifSet(p.externalIp(), b::externalIp);
    Settings.ifSet(p.serviceAccount(), b::serviceAccount);
    Settings.ifSet(p.callTimeout(), b::callTimeout);
    return b.build();
  }
}
