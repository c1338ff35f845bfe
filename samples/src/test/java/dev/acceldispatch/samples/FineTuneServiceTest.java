package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How a user tests their own code around the dispatcher with the testkit (the README's JUnit
 * example). Two styles:
 *
 * <ul>
 *   <li>virtual time: a {@link FakeProvider} on a {@link CloudModel} and a {@link ManualScheduler};
 *       an hour of cloud time passes in milliseconds and nothing waits;
 *   <li>the real SDK: the real {@code TpuClient} and provider against the {@link TpuEmulator},
 *       in real time with short poll intervals.
 * </ul>
 */
class FineTuneServiceTest {

  @Test
  void fineTune_cheapestZoneStockedOut_runsInTheNextZone() {
    ManualScheduler scheduler = new ManualScheduler();
    CloudModel cloud = CloudModel.create(scheduler.manualClock(), 42)
        .setDefaultWorkload(Duration.ofMinutes(30), 0)
        .stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(1));
    FakeProvider tpu = FakeProvider.builder("fake-tpu", cloud)
        .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
        .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00)
        .build();
    Dispatcher dispatcher = Dispatcher.builder()
        .provider(tpu).scheduler(scheduler).providerExecutor(Runnable::run).build();
    try {
      CompletableFuture<FineTuneService.Outcome> done =
          new FineTuneService(dispatcher).fineTune("llama-7b", "gs://acme/chat-v3");

      scheduler.advance(Duration.ofHours(1));

      assertThat(done).isCompleted();
      FineTuneService.Outcome outcome = done.join();
      assertThat(outcome.succeeded()).isTrue();
      assertThat(outcome.offer()).isEqualTo("fake-tpu/us-central1-a/v5litepod-8");
      assertThat(outcome.attempts()).isEqualTo(2);
    } finally {
      dispatcher.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
    assertThat(tpu.liveResources()).isZero();
  }

  @Test
  @Timeout(60)
  void fineTune_realTpuClientAgainstTheEmulator_succeedsAndReleasesTheSlice() throws Exception {
    CloudModel cloud = CloudModel.create()
        .setProvisioningTime(Duration.ofMillis(300))
        .setDefaultWorkload(Duration.ofSeconds(1), 0);
    try (TpuEmulator emulator = TpuEmulator.create(cloud).start()) {
      TpuClient client = TpuClient.create(emulator.clientSettings());
      try (GcpTpuProvider provider = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones("us-west4-a").build();
          Dispatcher dispatcher = Dispatcher.builder()
              .provider(provider)
              .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
              .build()) {
        FineTuneService.Outcome outcome =
            new FineTuneService(dispatcher).fineTune("llama-7b", "gs://acme/chat-v3").get(30, TimeUnit.SECONDS);

        assertThat(outcome.succeeded()).isTrue();
        assertThat(outcome.offer()).isEqualTo("gcp-tpu/us-west4-a/v5litepod-8");
        assertThat(emulator.createRequests()).hasSize(1);
      } finally {
        client.close();
        client.awaitTermination(10, TimeUnit.SECONDS);
      }
      Await.until("the slice deleted", Duration.ofSeconds(10), Duration.ofMillis(50),
          () -> cloud.liveResources() == 0 ? true : null);
    }
  }
}
