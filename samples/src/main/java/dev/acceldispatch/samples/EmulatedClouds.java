package dev.acceldispatch.samples;

import com.azure.resourcemanager.compute.ComputeManager;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.azure.gpu.AzureGpuProvider;
import dev.acceldispatch.azure.gpu.SubnetEgress;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The three clouds on this machine: the testkit's emulators of Cloud TPU, Compute Engine and Azure
 * Resource Manager, each on its own {@link CloudModel}, and the <em>real</em> SDK clients pointed at
 * them, wrapped in the three real providers. Nothing here needs credentials or a network beyond
 * loopback. {@link #close()} stops the clients, their threads and the emulators.
 */
public final class EmulatedClouds implements AutoCloseable {
  /** The project name the Google providers use against the emulators. */
  public static final String PROJECT = "demo-project";
  /** The Azure subscription the emulator is addressed with. */
  public static final String SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
  /** The Azure resource group. */
  public static final String RESOURCE_GROUP = "rg-demo";
  /** TPU zones wired. */
  public static final List<String> TPU_ZONES = List.of("us-west4-a", "us-central1-a");
  /** Compute Engine zones wired. */
  public static final List<String> GCE_ZONES = List.of("us-central1-a", "europe-west4-a");
  /** Azure regions wired. */
  public static final List<String> AZURE_REGIONS = List.of("eastus", "westus2");

  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final Map<String, CloudModel> models = new HashMap<>();
  private final Map<String, Provider> providers = new LinkedHashMap<>();
  private AzureEmulator azure;

  private EmulatedClouds() {}

  /**
   * Starts the emulators and wires a provider to each. Workloads in every cloud run for {@code
   * workload} and exit 0 unless a model says otherwise; machines take {@code boot} to start.
   */
  public static EmulatedClouds start(Duration boot, Duration workload) {
    EmulatedClouds clouds = new EmulatedClouds();
    try {
      clouds.startTpu(model(boot, workload));
      clouds.startGce(model(boot, workload));
      clouds.startAzure(model(boot, workload));
      return clouds;
    } catch (RuntimeException | Error e) {
      clouds.close();
      throw e;
    }
  }

  private static CloudModel model(Duration boot, Duration workload) {
    return CloudModel.create().setProvisioningTime(boot).setDefaultWorkload(workload, 0);
  }

  /** The provider wired to the emulator of {@code providerId} ({@code gcp-tpu}, {@code gcp-gpu}, {@code azure-gpu}). */
  public Provider provider(String providerId) {
    return require(providers, providerId);
  }

  /** The cloud model behind the emulator of {@code providerId}: script stockouts, quotas, preemptions here. */
  public CloudModel model(String providerId) {
    return require(models, providerId);
  }

  /** The three providers. */
  public List<Provider> providers() {
    return List.copyOf(providers.values());
  }

  /** Resources that still exist in any of the three clouds: zero after a clean shutdown. */
  public int liveResources() {
    if (azure != null) {
      // Azure's deletes take time and the emulator ends them when read.
      azure.existingVms();
    }
    return models.values().stream().mapToInt(CloudModel::liveResources).sum();
  }

  private void startTpu(CloudModel model) {
    TpuEmulator emulator = TpuEmulator.create(model).start();
    closers.push(emulator);
    TpuClient client;
    try {
      client = TpuClient.create(emulator.clientSettings());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    closers.push(() -> {
      client.close();
      client.awaitTermination(10, TimeUnit.SECONDS);
    });
    GcpTpuProvider provider = GcpTpuProvider.builder(client).project(PROJECT).egress(NetworkEgress.CLOUD_NAT)
        .zones(TPU_ZONES.toArray(String[]::new)).callTimeout(Duration.ofSeconds(10)).build();
    closers.push(provider);
    register(model, provider);
  }

  private void startGce(CloudModel model) {
    GceEmulator emulator = new GceEmulator(model).start();
    closers.push(emulator);
    try {
      InstancesClient instances = owned(InstancesClient.create(emulator.instancesSettings()));
      ZoneOperationsClient operations = owned(ZoneOperationsClient.create(emulator.zoneOperationsSettings()));
      MachineTypesClient machineTypes = owned(MachineTypesClient.create(emulator.machineTypesSettings()));
      AcceleratorTypesClient acceleratorTypes = owned(AcceleratorTypesClient.create(emulator.acceleratorTypesSettings()));
      register(model, GcpGpuProvider.builder(instances, operations).zoneCatalog(machineTypes, acceleratorTypes)
          .project(PROJECT).egress(NetworkEgress.CLOUD_NAT)
          .zones(GCE_ZONES.toArray(String[]::new)).callTimeout(Duration.ofSeconds(10)).build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Closes {@code client} (and waits for its threads) when the demo closes. */
  private <C extends com.google.api.gax.core.BackgroundResource> C owned(C client) {
    closers.push(() -> {
      client.close();
      client.awaitTermination(10, TimeUnit.SECONDS);
    });
    return client;
  }

  private void startAzure(CloudModel model) {
    AzureEmulator emulator = AzureEmulator.create(model).start();
    closers.push(emulator);
    azure = emulator;
    // The emulator's ready client wiring: its event loop ends with the emulator.
    ComputeManager compute = emulator.computeManager(SUBSCRIPTION, AzureGpuProvider.retryPolicy());
    String subnet = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/rg-net/providers/Microsoft.Network"
        + "/virtualNetworks/vnet/subnets/gpu";
    // The VMs' identity holds Tag Contributor on the resource group, as the provider's README asks.
    String identity = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity"
        + "/userAssignedIdentities/demo-vm";
    emulator.grantRole(identity, AzureEmulator.ROLE_TAG_CONTRIBUTOR, "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + RESOURCE_GROUP);
    register(model, AzureGpuProvider.builder(compute)
        .resourceGroup(RESOURCE_GROUP)
        .regions(AZURE_REGIONS.toArray(String[]::new))
        .subnet(subnet)
        .subnetEgress(SubnetEgress.NAT_GATEWAY)
        .userAssignedIdentity(identity)
        .sshPublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyOnlyForTheEmulator demo@accel")
        .callTimeout(Duration.ofSeconds(15))
        .build());
  }

  private void register(CloudModel model, Provider provider) {
    models.put(provider.id(), model);
    providers.put(provider.id(), provider);
  }

  private static <T> T require(Map<String, T> map, String providerId) {
    T t = map.get(providerId);
    if (t == null) {
      throw new IllegalArgumentException("providerId must be one of " + map.keySet() + ", got '" + providerId + "'");
    }
    return t;
  }

  /** Closes the providers, the SDK clients and their threads, then the emulators. */
  @Override
  public void close() {
    RuntimeException failure = null;
    while (!closers.isEmpty()) {
      try {
        closers.pop().close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("closing the emulated clouds", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
