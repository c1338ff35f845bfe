package dev.acceldispatch.spring.boot.autoconfigure;

import com.google.api.gax.core.CredentialsProvider;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.AcceleratorTypesSettings;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.MachineTypesSettings;
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
 * {@link InstancesClient}, {@link ZoneOperationsClient}, {@link MachineTypesClient} and {@link
 * AcceleratorTypesClient}, or ones made with the application's credentials. Clients the starter
 * makes are closed with the context; a client the application made is the application's to close.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.acceldispatch.gcp.gpu.GcpGpuProvider")
@ConditionalOnProperty(prefix = "acceldispatch.providers.gcp-gpu", name = "enabled", havingValue = "true")
class GcpGpuProviderConfiguration {
  private static final String PREFIX = "acceldispatch.providers.gcp-gpu";

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

  /** Lists each zone's machine types, so the provider offers a machine only where it exists. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  MachineTypesClient accelDispatchMachineTypesClient(ObjectProvider<CredentialsProvider> credentials)
      throws IOException {
    return MachineTypesClient.create(
        GoogleClients.withHostCredentials(MachineTypesSettings.newBuilder(), credentials).build());
  }

  /** Lists each zone's accelerator types (an N1 machine's guest GPUs). */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  AcceleratorTypesClient accelDispatchAcceleratorTypesClient(ObjectProvider<CredentialsProvider> credentials)
      throws IOException {
    return AcceleratorTypesClient.create(
        GoogleClients.withHostCredentials(AcceleratorTypesSettings.newBuilder(), credentials).build());
  }

  @Bean
  @ConditionalOnMissingBean
  GcpGpuProvider accelDispatchGcpGpuProvider(
      InstancesClient instances, ZoneOperationsClient operations, MachineTypesClient machineTypes,
      AcceleratorTypesClient acceleratorTypes, AccelDispatchProperties properties) {
    AccelDispatchProperties.GcpGpu p = properties.providers().gcpGpu();
    GcpGpuProvider.Builder b = GcpGpuProvider.builder(instances, operations)
        .zoneCatalog(machineTypes, acceleratorTypes).project(p.project());
    Settings.ifSetStrings(p.zones(), b::zones);
    Settings.ifSet(p.id(), b::id);
    Settings.ifSet(p.spot(), b::spot);
    Settings.ifSet(p.bootImage(), b::bootImage);
    Settings.ifSet(p.bootDiskGb(), b::bootDiskGb);
    Settings.ifSet(p.externalIp(), b::externalIp);
    Settings.ifSet(p.egress(), e -> b.egress(GoogleClients.networkEgress(e, PREFIX + ".egress")));
    Settings.ifSet(p.serviceAccount(), b::serviceAccount);
    Settings.ifSet(p.catalogRefresh(), b::catalogRefresh);
    Settings.ifSet(p.callTimeout(), b::callTimeout);
    GoogleClients.requireEgress(p.egress(), p.externalIp(), PREFIX);
    return b.build();
  }
}
