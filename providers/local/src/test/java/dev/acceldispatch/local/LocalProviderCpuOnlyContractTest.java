package dev.acceldispatch.local;

import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.ProviderContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The provider contract on a machine without GPUs: only the CPU offer. */
class LocalProviderCpuOnlyContractTest extends ProviderContractTest {
  @TempDir Path tmp;
  private LocalProvider provider;

  @BeforeEach
  void buildProvider() {
    provider = new FakeHost(tmp).builder().build();
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
