package dev.acceldispatch.azure.gpu;

import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.CloudProviderContractTest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The testkit's cloud provider contract, through the real ComputeManager against the ARM emulator. */
class AzureGpuProviderContractTest extends CloudProviderContractTest {
  private static AzureTestWiring wiring;
  private static AzureGpuProvider provider;

  @BeforeAll
  static void start() {
    wiring = AzureTestWiring.start(CloudModel.create());
    provider = wiring.providerBuilder().build();
  }

  @AfterAll
  static void stop() {
    wiring.close();
    AzureTestWiring.assertNoThreadsLeft();
  }

  @Override
  protected Provider provider() {
    return provider;
  }

  @Override
  protected CloudModel cloud() {
    return wiring.emulator.model();
  }

  @Override
  protected String createOperation() {
    return AzureEmulator.OP_PUT;
  }

  @Override
  protected Optional<ScriptSandbox.Result> observedWorkload(String resourceName) {
    return wiring.emulator.observedWorkload(resourceName);
  }
}
