package dev.acceldispatch.gcp.gpu;

import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.CloudProviderContractTest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The provider contract, through the real InstancesClient, against the GCE emulator. */
class GcpGpuProviderContractTest extends CloudProviderContractTest {
  private static EmulatedGce gce;
  private static GcpGpuProvider provider;

  @BeforeAll
  static void startEmulator() {
    gce = new EmulatedGce();
    gce.model.setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofMillis(500), 0);
    provider = gce.provider().build();
  }

  @AfterAll
  static void stopEmulator() {
    gce.close();
  }

  @Override
  protected Provider provider() {
    return provider;
  }

  @Override
  protected CloudModel cloud() {
    return gce.model;
  }

  @Override
  protected String createOperation() {
    return "gce.insert";
  }

  @Override
  protected Optional<ScriptSandbox.Result> observedWorkload(String resourceName) {
    return gce.emulator.observedWorkload(resourceName);
  }
}
