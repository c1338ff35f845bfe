package dev.acceldispatch.gcp.gpu;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.httpjson.InstantiatingHttpJsonChannelProvider;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
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

  EmulatedGce() {
    model = CloudModel.create();
    emulator = new GceEmulator(model).start();
    String endpoint = emulator.endpoint();
    try {
      instances =
          InstancesClient.create(
              InstancesSettings.newBuilder()
                  .setEndpoint(endpoint)
                  .setCredentialsProvider(NoCredentialsProvider.create())
                  .setTransportChannelProvider(
                      InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(endpoint).build())
                  .build());
      zoneOperations =
          ZoneOperationsClient.create(
              ZoneOperationsSettings.newBuilder()
                  .setEndpoint(endpoint)
                  .setCredentialsProvider(NoCredentialsProvider.create())
                  .setTransportChannelProvider(
                      InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(endpoint).build())
                  .build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A provider builder on these clients, for the test project and zones. */
  GcpGpuProvider.Builder provider() {
    return GcpGpuProvider.builder(instances, zoneOperations).project(PROJECT).zones(ZONE, OTHER_ZONE);
  }

  @Override
  public void close() {
    instances.close();
    zoneOperations.close();
    try {
      instances.awaitTermination(10, TimeUnit.SECONDS);
      zoneOperations.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      emulator.close();
    }
  }
}
