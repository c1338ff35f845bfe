package dev.acceldispatch.testkit.engine;

import static dev.acceldispatch.testkit.engine.EngineHarness.H100X8;
import static dev.acceldispatch.testkit.engine.EngineHarness.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobState;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.Secret;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** What a new user tripped on (issue 16), each test named after what broke. */
class NewcomerRegressionTest {

  /** A dispatcher in virtual time over two fake zones whose creates {@code refuse} answers. */
  private static final class Refusing implements AutoCloseable {
    final ManualScheduler scheduler = new ManualScheduler();
    final CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7);
    final FakeProvider fake = FakeProvider.builder("fake", cloud)
        .offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0)
        .offer("r1", "r1-b", H100X8, "h100x8", 85, 17.0)
        .build();
    final Dispatcher dispatcher;

    Refusing(Function<ProvisionRequest, ProviderException> refuse) {
      dispatcher = Dispatcher.builder().provider(new ForwardingProvider(fake) {
        @Override
        public ProvisionedResource provision(ProvisionRequest request) {
          throw refuse.apply(request);
        }
      }).scheduler(scheduler).providerExecutor(Runnable::run).pollInterval(Duration.ofSeconds(1), Duration.ofSeconds(10)).build();
    }

    @Override
    public void close() {
      dispatcher.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
  }

  @Test
  void invalidRequestEverywhere_resultMessageSaidOnlyInvalidRequest_nowCarriesTheProvidersCodeAndMessage() {
    try (Refusing r = new Refusing(req -> new ProviderException.InvalidRequest("fake", req.offer().zone(),
        "CONTAINER_RUNTIME_UNUSABLE", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock", null))) {
      JobHandle h = r.dispatcher.submit(job("no-docker", 60).build());
      r.scheduler.advance(Duration.ofMinutes(1));

      assertThat(h.result()).isCompleted();
      JobResult res = h.result().join();
      assertThat(res.state()).isEqualTo(JobState.FAILED);
      assertThat(res.message())
          .contains("no offer can run it any more")
          .contains("CONTAINER_RUNTIME_UNUSABLE")
          .contains("Cannot connect to the Docker daemon")
          .contains("r1-a").contains("r1-b");
    }
  }

  @Test
  void permissionDenied_startDeadlineMessageHadOnlyTheCode_nowCarriesTheProvidersMessage() {
    try (Refusing r = new Refusing(req -> new ProviderException.PermissionDenied("fake", req.offer().zone(), false,
        "PERMISSION_DENIED", "Permission 'compute.instances.create' denied on project 'p'", null))) {
      JobHandle h = r.dispatcher.submit(job("denied", 60).startDeadline(Duration.ofMinutes(10)).build());
      r.scheduler.advance(Duration.ofMinutes(11));

      assertThat(h.result()).isCompleted();
      JobResult res = h.result().join();
      assertThat(res.state()).isEqualTo(JobState.FAILED);
      assertThat(res.message()).contains("startDeadline").contains("PERMISSION_DENIED")
          .contains("Permission 'compute.instances.create' denied");
    }
  }

  @Test
  void usageQueuedJobs_rightAfterTenSubmits_wasZero() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      List<JobHandle> jobs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        jobs.add(h.dispatcher.submit(job("q-" + i, 60).tenant("team-a").build()));
      }

      assertThat(h.dispatcher.usage("team-a").queuedJobs()).isEqualTo(10);
      assertThat(h.dispatcher.usage("team-b").queuedJobs()).isZero();

      jobs.get(0).cancel();
      h.run(Duration.ofHours(1));
      assertThat(jobs).allSatisfy(j -> assertThat(j.result()).isCompleted());
      assertThat(h.dispatcher.usage("team-a").queuedJobs()).isZero();
    }
  }

  /** A fake that declares, as the Google providers do without a secret fetcher, Secret Manager only. */
  private static final class SecretManagerOnly extends ForwardingProvider implements SecretDelivery {
    SecretManagerOnly(FakeProvider fake) {
      super(fake);
    }

    @Override
    public Set<Secret.Kind> deliverableSecretKinds() {
      return EnumSet.of(Secret.Kind.GOOGLE_SECRET_MANAGER);
    }
  }

  @Test
  void submit_secretsNoWiredProviderCanDeliver_failedOnlyAtRunTime_nowRefusedAtSubmit() {
    ManualScheduler scheduler = new ManualScheduler();
    CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7);
    FakeProvider fake = FakeProvider.builder("fake", cloud).offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0).build();
    Dispatcher d = Dispatcher.builder().provider(new SecretManagerOnly(fake)).scheduler(scheduler)
        .providerExecutor(Runnable::run).build();
    try {
      assertThatThrownBy(() -> d.submit(job("literal", 60).secretEnv("HF_TOKEN", Secret.of("hf_value_never_shown")).build()))
          .isInstanceOf(NoFeasibleOfferException.class)
          .hasMessageContaining("provider fake cannot deliver secretEnv[HF_TOKEN] (a literal value)")
          .hasMessageContaining("GOOGLE_SECRET_MANAGER")
          .hasMessageNotContaining("hf_value_never_shown");
      assertThatThrownBy(() -> d.submit(job("vault", 60)
          .secretEnv("DB", Secret.azureKeyVault("https://myvault.vault.azure.net/secrets/db")).build()))
          .isInstanceOf(NoFeasibleOfferException.class)
          .hasMessageContaining("secretEnv[DB] (secret reference Azure Key Vault 'https://myvault.vault.azure.net/secrets/db')");

      // What it can deliver is admitted, and runs.
      JobHandle ok = d.submit(job("gsm", 60).secretEnv("HF_TOKEN", Secret.googleSecretManager("projects/p/secrets/hf")).build());
      scheduler.advance(Duration.ofMinutes(10));
      assertThat(ok.result()).isCompleted();
      assertThat(ok.result().join().state()).isEqualTo(JobState.SUCCEEDED);
    } finally {
      d.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
  }

  @Test
  void submit_secretsAndAProviderThatDeclaresNothing_isAssumedAbleAsBefore() {
    try (EngineHarness h = EngineHarness.threeZones(b -> {})) {
      JobHandle job = h.dispatcher.submit(job("undeclared", 60).secretEnv("HF_TOKEN", Secret.of("v")).build());
      h.run(Duration.ofMinutes(10));
      assertThat(job.result()).isCompleted();
    }
  }

  @Test
  void submit_secretsOneOfTwoProvidersCanDeliver_isAdmittedAndPlacedThere() {
    ManualScheduler scheduler = new ManualScheduler();
    CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7);
    FakeProvider google = FakeProvider.builder("google", cloud).offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0).build();
    FakeProvider other = FakeProvider.builder("other", cloud).offer("r2", "r2-a", H100X8, "h100x8", 90, 18.0).build();
    Dispatcher d = Dispatcher.builder().provider(new SecretManagerOnly(google)).provider(other).scheduler(scheduler)
        .providerExecutor(Runnable::run).build();
    try {
      // The cheaper Google offer cannot take a literal: the job goes to the other provider.
      JobHandle h = d.submit(job("literal", 60).secretEnv("HF_TOKEN", Secret.of("v")).build());
      assertThat(d.plan(job("literal", 60).secretEnv("HF_TOKEN", Secret.of("v")).build()).excluded())
          .anySatisfy(line -> assertThat(line).contains("provider google cannot deliver secretEnv[HF_TOKEN]"));
      scheduler.advance(Duration.ofMinutes(10));
      assertThat(h.result()).isCompleted();
      assertThat(h.result().join().attempts()).extracting(a -> a.offer().providerId()).containsExactly("other");
    } finally {
      d.close();
      scheduler.advance(Duration.ofMinutes(5));
    }
  }
}
