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
    InstancesSettings.Builder settings = InstancesSettings.newBuilder();
    CredentialsProvider host = credentials.getIfUnique();
    if (host != null) {
      settings.setCredentialsProvider(host);
    }
    return InstancesClient.create(settings.build());
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  ZoneOperationsClient accelDispatchZoneOperationsClient(ObjectProvider<CredentialsProvider> credentials)
      throws IOException {
    ZoneOperationsSettings.Builder settings = ZoneOperationsSettings.newBuilder();
    CredentialsProvider host = credentials.getIfUnique();
    if (host != null) {
      settings.setCredentialsProvider(host);
    }
    return ZoneOperationsClient.create(settings.build());
  }

  @Bean
  @ConditionalOnMissingBean
  GcpGpuProvider accelDispatchGcpGpuProvider(
      InstancesClient instances, ZoneOperationsClient operations, AccelDispatchProperties properties) {
    AccelDispatchProperties.GcpGpu p = properties.providers().gcpGpu();
    GcpGpuProvider.Builder b = GcpGpuProvider.builder(instances, operations).project(p.project());
    if (p.zones() != null) {
      b.zones(p.zones().toArray(String[]::new));
    }
    if (p.id() != null) {
      b.id(p.id());
    }
    if (p.spot() != null) {
      b.spot(p.spot());
    }
    if (p.bootImage() != null) {
      b.bootImage(p.bootImage());
    }
    if (p.bootDiskGb() != null) {
      b.bootDiskGb(p.bootDiskGb());
    }
    if (p.externalIp() != null) {
      b.externalIp(p.externalIp());
    }
    if (p.serviceAccount() != null) {
      b.serviceAccount(p.serviceAccount());
    }
    if (p.callTimeout() != null) {
      b.callTimeout(p.callTimeout());
    }
    return b.build();
  }
}
