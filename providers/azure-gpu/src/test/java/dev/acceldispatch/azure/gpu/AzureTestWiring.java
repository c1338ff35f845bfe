package dev.acceldispatch.azure.gpu;

import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.resourcemanager.compute.ComputeManager;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import java.time.Duration;
import reactor.core.scheduler.Schedulers;

/**
 * An {@link AzureEmulator} and a real {@link ComputeManager} on the emulator's ready client wiring
 * (plain HTTP, no auth policy, an event loop the emulator shuts down).
 */
final class AzureTestWiring implements AutoCloseable {
  static final String SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
  static final String RESOURCE_GROUP = "rg-accel";
  static final String SUBNET =
      "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/gpu";
  static final String IDENTITY =
      "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/accel-vm";
  static final String RESOURCE_GROUP_ID = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + RESOURCE_GROUP;

  final AzureEmulator emulator;
  final ComputeManager compute;

  private AzureTestWiring(AzureEmulator emulator, ComputeManager compute) {
    this.emulator = emulator;
    this.compute = compute;
  }

  /**
   * The wiring every test uses: the pipeline the provider recommends ({@link
   * AzureGpuProvider#retryPolicy()}), and the VMs' identity granted Tag Contributor on the resource
   * group, as the README tells the host to do.
   */
  static AzureTestWiring start(CloudModel model) {
    AzureTestWiring w = start(model, AzureGpuProvider.retryPolicy());
    w.emulator.grantRole(IDENTITY, AzureEmulator.ROLE_TAG_CONTRIBUTOR, RESOURCE_GROUP_ID);
    return w;
  }

  static AzureTestWiring start(CloudModel model, HttpPipelinePolicy retry) {
    AzureEmulator emulator = AzureEmulator.create(model).start();
    return new AzureTestWiring(emulator, emulator.computeManager(SUBSCRIPTION, retry));
  }

  /** A builder with everything required set, for regions eastus and westus2. */
  AzureGpuProvider.Builder providerBuilder() {
    return AzureGpuProvider.builder(compute)
        .resourceGroup(RESOURCE_GROUP)
        .regions("eastus", "westus2")
        .subnet(SUBNET)
        .subnetEgress(SubnetEgress.NAT_GATEWAY)
        .userAssignedIdentity(IDENTITY)
        .sshPublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContractTestKeyOnly test@accel")
        .callTimeout(Duration.ofSeconds(15));
  }

  @Override
  public void close() {
    emulator.close();
  }

  /**
   * Disposes Reactor's shared schedulers, on which the SDK's retry delays run (Reactor recreates
   * them on demand), and checks that no emulator, client or scheduler thread is left. Called once
   * a test class has closed all its wirings.
   */
  static void assertNoThreadsLeft() {
    Schedulers.shutdownNow();
    Await.until("no emulator or client thread left", Duration.ofSeconds(5), Duration.ofMillis(20),
        () -> Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .noneMatch(n -> n.startsWith("azure-emulator-")
                    || n.startsWith("parallel-") || n.startsWith("boundedElastic-"))
            ? true : null);
  }
}
