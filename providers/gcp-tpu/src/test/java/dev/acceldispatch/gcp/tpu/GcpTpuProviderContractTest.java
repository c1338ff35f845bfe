package dev.acceldispatch.gcp.tpu;

import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.CloudProviderContractTest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The cloud provider contract, through the real {@link TpuClient}, against the TPU emulator. */
class GcpTpuProviderContractTest extends CloudProviderContractTest {
  private static TpuEmulator emulator;
  private static TpuClient client;
  private static GcpTpuProvider provider;

  @BeforeAll
  static void startEmulator() throws IOException {
    emulator = TpuEmulator.create(CloudModel.create().setProvisioningTime(Duration.ofMillis(300))
        .setDefaultWorkload(Duration.ofMillis(700), 0)).start();
    client = TpuClient.create(emulator.clientSettings());
    provider = GcpTpuProvider.builder(client).project("contract-project").egress(NetworkEgress.CLOUD_NAT).zones("us-west4-a", "us-central1-a")
        .callTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterAll
  static void stopEmulator() throws InterruptedException {
    provider.close();
    client.close();
    client.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    emulator.close();
  }

  @Override
  protected Provider provider() {
    return provider;
  }

  @Override
  protected CloudModel cloud() {
    return emulator.model();
  }

  @Override
  protected String createOperation() {
    return TpuEmulator.OP_CREATE;
  }

  @Override
  protected Optional<ScriptSandbox.Result> observedWorkload(String resourceName) {
    return emulator.observedWorkload(resourceName);
  }

  @Override
  protected Duration patience() {
    return Duration.ofSeconds(20);
  }

  @Override
  protected Duration pollEvery() {
    return Duration.ofMillis(100);
  }
}
