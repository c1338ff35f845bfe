package dev.acceldispatch.spring.boot.autoconfigure;

import com.azure.core.credential.TokenCredential;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.profile.AzureProfile;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.resourcemanager.compute.ComputeManager;
import dev.acceldispatch.azure.gpu.AzureGpuProvider;
import dev.acceldispatch.azure.gpu.SubnetEgress;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Azure GPU provider, when enabled and on the class path, on the application's {@link
 * ComputeManager} or one authenticated with the application's {@link TokenCredential} (else {@code
 * DefaultAzureCredential}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.acceldispatch.azure.gpu.AzureGpuProvider")
@ConditionalOnProperty(prefix = "acceldispatch.providers.azure-gpu", name = "enabled", havingValue = "true")
class AzureGpuProviderConfiguration {

  @Bean
  @ConditionalOnMissingBean
  ComputeManager accelDispatchComputeManager(
      ObjectProvider<TokenCredential> credentials, AccelDispatchProperties properties) {
    AccelDispatchProperties.AzureGpu p = properties.providers().azureGpu();
    if (p.subscriptionId() == null) {
      throw new IllegalStateException("acceldispatch.providers.azure-gpu.subscription-id: set it, or provide a "
          + "ComputeManager bean");
    }
    TokenCredential credential = credentials.getIfUnique(() -> new DefaultAzureCredentialBuilder().build());
    return ComputeManager.authenticate(credential, new AzureProfile(p.tenantId(), p.subscriptionId(), AzureEnvironment.AZURE));
  }

  @Bean
  @ConditionalOnMissingBean
  AzureGpuProvider accelDispatchAzureGpuProvider(ComputeManager compute, AccelDispatchProperties properties) {
    AccelDispatchProperties.AzureGpu p = properties.providers().azureGpu();
    AzureGpuProvider.Builder b = AzureGpuProvider.builder(compute).resourceGroup(p.resourceGroup());
    Settings.ifSetStrings(p.regions(), b::regions);
    Settings.ifSet(p.id(), b::id);
    Settings.ifSet(p.subnet(), b::subnet);
    Settings.ifSet(p.subnets(), subnets -> subnets.forEach(b::subnet));
    Settings.ifSetStrings(p.sizes(), b::sizes);
    Settings.ifSet(p.adminUsername(), b::adminUsername);
    Settings.ifSet(p.sshPublicKey(), b::sshPublicKey);
    Settings.ifSet(p.userAssignedIdentity(), b::userAssignedIdentity);
    Settings.ifSet(p.subnetEgress(), egress -> b.subnetEgress(subnetEgress(egress)));
    Settings.ifSet(p.externalIp(), b::externalIp);
    Settings.ifSet(p.callTimeout(), b::callTimeout);
    return b.build();
  }

  /** The property's value as the provider's enum; a typo names the property and what is allowed. */
  private static SubnetEgress subnetEgress(String value) {
    try {
      return SubnetEgress.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("acceldispatch.providers.azure-gpu.subnet-egress: '" + value
          + "' is not one of " + java.util.Arrays.toString(SubnetEgress.values()), e);
    }
  }
}
