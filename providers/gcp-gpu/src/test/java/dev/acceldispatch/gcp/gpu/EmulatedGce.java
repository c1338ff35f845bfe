package dev.acceldispatch.gcp.gpu;

import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A cloud model, the GCE emulator on it, and the real clients pointed at it; closes all of it. */
final class EmulatedGce implements AutoCloseable {
  static final String PROJECT = "emulated-project";
  static final String ZONE = "us-central1-a";
  static final String OTHER_ZONE = "europe-west4-a";

  final CloudModel model;
  final GceEmulator emulator;
  final InstancesClient instances;
  final ZoneOperationsClient zoneOperations;
  final MachineTypesClient machineTypes;
  final AcceleratorTypesClient acceleratorTypes;

  EmulatedGce() {
    model = CloudModel.create();
    emulator = new GceEmulator(model).start();
    try {
      instances = InstancesClient.create(emulator.instancesSettings());
      zoneOperations = ZoneOperationsClient.create(emulator.zoneOperationsSettings());
      machineTypes = MachineTypesClient.create(emulator.machineTypesSettings());
      acceleratorTypes = AcceleratorTypesClient.create(emulator.acceleratorTypesSettings());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A provider builder on these clients, for the test project and zones, with Cloud NAT egress. */
  GcpGpuProvider.Builder provider() {
    return GcpGpuProvider.builder(instances, zoneOperations).zoneCatalog(machineTypes, acceleratorTypes)
        .project(PROJECT).zones(ZONE, OTHER_ZONE).egress(NetworkEgress.CLOUD_NAT);
  }

  @Override
  public void close() {
    List<com.google.api.gax.core.BackgroundResource> clients = List.of(instances, zoneOperations, machineTypes, acceleratorTypes);
    for (var c : clients) {
      c.shutdown();
    }
    try {
      for (var c : clients) {
        c.awaitTermination(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      emulator.close();
    }
  }
}
