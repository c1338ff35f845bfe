package dev.acceldispatch.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class MeteredProviderTest {
  private final DispatchMetrics metrics = DispatchMetrics.builder(new SimpleMeterRegistry()).build();
  private final FakeProvider fake = FakeProvider.builder("fake", CloudModel.create(new ManualScheduler().manualClock(), 7))
      .offer("r1", "r1-a", Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), "h100x8", 80, 16.0).build();

  @Test
  void instrument_providerDeclaringSecretKinds_wrapperHidTheDeclaration_nowAnswersForIt() {
    Provider declaring = (Provider) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {Provider.class, SecretDelivery.class}, (proxy, m, args) -> m.getName().equals("deliverableSecretKinds")
            ? EnumSet.of(Secret.Kind.AZURE_KEY_VAULT) : m.invoke(fake, args));

    assertThat(((SecretDelivery) metrics.instrument(declaring)).deliverableSecretKinds()).containsExactly(Secret.Kind.AZURE_KEY_VAULT);
  }

  @Test
  void instrument_providerDeclaringNothing_deliversEveryKindAsAnyUndeclaredProvider() {
    assertThat(((SecretDelivery) metrics.instrument(fake)).deliverableSecretKinds()).containsExactlyInAnyOrder(Secret.Kind.values());
  }
}
