package dev.acceldispatch.testkit;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension giving each test a fresh {@link VirtualCloud} (a parameter of that type on the
 * test method or a {@code @BeforeEach} method: the same instance for both) and, after the test,
 * closing its dispatchers and failing the test if any machine was left in the cloud.
 *
 * <pre>{@code
 * @ExtendWith(VirtualCloudExtension.class)
 * class MyServiceTest {
 *   @Test
 *   void runsInTheNextZoneWhenTheFirstIsOut(VirtualCloud vc) {
 *     vc.cloud().stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(1));
 *     FakeProvider tpu = vc.provider("fake-tpu")
 *         .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
 *         .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00).build();
 *     Dispatcher dispatcher = vc.dispatcher(tpu);
 *     // ... exercise your code, vc.advance(Duration.ofHours(1)), assert ...
 *   }   // afterwards: dispatchers closed, no resource may be left
 * }
 * }</pre>
 *
 * <p>The cloud model's seed is 42 unless the test class or method is annotated otherwise with
 * {@link VirtualCloudSeed}.
 */
public final class VirtualCloudExtension implements ParameterResolver, AfterEachCallback {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(VirtualCloudExtension.class);
  private static final long DEFAULT_SEED = 42;

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == VirtualCloud.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (parameter.getDeclaringExecutable() instanceof java.lang.reflect.Constructor<?> || context.getTestMethod().isEmpty()) {
      // The cloud lives for one test method; a constructor or a class-level method would share it.
      throw new ParameterResolutionException("VirtualCloud: take it as a parameter of the test method or of a "
          + "@BeforeEach/@AfterEach method, not of " + parameter.getDeclaringExecutable());
    }
    return context.getStore(NAMESPACE).getOrComputeIfAbsent(VirtualCloud.class, k -> new VirtualCloud(seedOf(context)),
        VirtualCloud.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    VirtualCloud vc = context.getStore(NAMESPACE).remove(VirtualCloud.class, VirtualCloud.class);
    if (vc != null) {
      vc.closeAndCheckForLeaks();
    }
  }

  private static long seedOf(ExtensionContext context) {
    return context.getTestMethod().map(m -> m.getAnnotation(VirtualCloudSeed.class))
        .or(() -> context.getTestClass().map(c -> c.getAnnotation(VirtualCloudSeed.class)))
        .map(VirtualCloudSeed::value)
        .orElse(DEFAULT_SEED);
  }
}
