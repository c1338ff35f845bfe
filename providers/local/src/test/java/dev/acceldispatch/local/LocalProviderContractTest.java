package dev.acceldispatch.local;

import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.ProviderContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The provider contract, on a fake machine with four L4 GPUs (the tests use one). */
class LocalProviderContractTest extends ProviderContractTest {
  @TempDir Path tmp;
  private LocalProvider provider;

  @BeforeEach
  void buildProvider() {
    provider = new FakeHost(tmp).builderWithGpus(4, "NVIDIA L4", 23034).build();
  }

  @Override
  protected Provider provider() {
    return provider;
  }

  @Override
  protected boolean acceptsSecretsByDefault() {
    return true;
  }
}
