package dev.acceldispatch.testkit.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The per-call timeout in real time, on the dispatcher's own provider pool: a status call that
 * hangs is interrupted after {@link ProviderLimits#callTimeout()}, counted as a transient
 * failure, and the job goes on with the next poll instead of waiting for the hung call.
 */
class ProviderCallTimeoutTest {

  /** Forwards to a fake provider, except that the first status call hangs until released. */
  private static final class FirstStatusHangs extends ForwardingProvider {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger statusCalls = new AtomicInteger();
    final AtomicInteger callsWhileHung = new AtomicInteger();
    volatile boolean firstCallInterrupted;

    FirstStatusHangs(FakeProvider fake) {
      super(fake);
    }

    @Override
    public ResourceStatus status(ProvisionedResource resource) {
      if (statusCalls.incrementAndGet() == 1) {
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          // What a blocking SDK call does when interrupted: it gives up with an error.
          firstCallInterrupted = true;
          throw new IllegalStateException("interrupted", e);
        }
      } else if (release.getCount() > 0) {
        callsWhileHung.incrementAndGet();
      }
      return fake.status(resource);
    }
  }

  @Test
  void aHungStatusCallTimesOutAndTheNextPollCarriesOn() throws Exception {
    CloudModel cloud = CloudModel.create(Clock.systemUTC(), 7);
    FakeProvider fake = FakeProvider.builder("fake", cloud)
        .offer("r1", "r1-a", EngineHarness.H100X8, "h100x8", 80, 16.0)
        .limits(ProviderLimits.IN_PROCESS.withCallTimeout(Duration.ofMillis(300)))
        .build();
    FirstStatusHangs provider = new FirstStatusHangs(fake);
    try (Dispatcher d = Dispatcher.builder()
        .provider(provider)
        .pollInterval(Duration.ofMillis(50), Duration.ofMillis(100))
        .build()) {
      JobResult r = d.submit(EngineHarness.job("hangs-once", 1).build()).result().get(20, TimeUnit.SECONDS);

      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      // The hung call was interrupted by the timeout (nothing ever released it), and polling went on.
      assertThat(provider.firstCallInterrupted).isTrue();
      assertThat(provider.release.getCount()).isEqualTo(1);
      assertThat(provider.callsWhileHung.get()).isGreaterThan(0);
    } finally {
      provider.release.countDown();
    }
    assertThat(fake.liveResources()).isZero();
  }

  @Test
  void aProviderExecutorThatIsShutDown_isRefusedWhenTheDispatcherIsBuilt() {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    pool.shutdown();
    FakeProvider fake = FakeProvider.builder("fake", CloudModel.create())
        .offer("r1", "r1-a", EngineHarness.H100X8, "h100x8", 80, 16.0).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Dispatcher.builder().provider(fake).fleetId("refused")
        .providerExecutor(pool).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("providerExecutor rejected a task");
    // Refused before the dispatcher started its own scheduler thread.
    dev.acceldispatch.testkit.Await.noThreadAlive("accel-dispatch-refused", java.time.Duration.ofSeconds(1));
  }
}
