package dev.acceldispatch.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.profile.AzureProfile;
import com.azure.resourcemanager.compute.ComputeManager;
import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.DispatcherClosedException;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.QueueFullException;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.azure.gpu.AzureGpuProvider;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.local.LocalProvider;
import dev.acceldispatch.micrometer.DispatchMetrics;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spring.boot.AccelDispatchProperties;
import dev.acceldispatch.spring.boot.DispatcherCustomizer;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.mock.env.MockEnvironment;

class AccelDispatchAutoConfigurationTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(
          AccelDispatchAutoConfiguration.class, AccelDispatchHealthAutoConfiguration.class));

  /** A fake cloud in virtual time, as a host's test configuration would wire it. */
  @Configuration(proxyBeanMethods = false)
  static class VirtualCloudConfig {
    @Bean
    ManualScheduler scheduler() {
      return new ManualScheduler();
    }

    @Bean
    CloudModel cloud(ManualScheduler scheduler) {
      return CloudModel.create(scheduler.manualClock(), 42).setDefaultWorkload(Duration.ofMinutes(30), 0);
    }

    @Bean
    FakeProvider fakeTpu(CloudModel cloud) {
      return FakeProvider.builder("fake-tpu", cloud)
          .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 3.75)
          .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, 4.00)
          .build();
    }

    @Bean
    DispatcherCustomizer virtualTime(ManualScheduler scheduler) {
      return b -> b.scheduler(scheduler).providerExecutor(Runnable::run);
    }
  }

  private static JobSpec job(String name, String tenant) {
    return JobSpec.builder(name).script("python train.py").accelerators(Shapes.tpuV5e(8))
        .spot(SpotPolicy.NEVER).tenant(tenant).build();
  }

  @Test
  void dispatcher_noProviderBean_isNotCreatedAndTheContextStarts() {
    runner.run(context -> {
      assertThat(context).hasNotFailed().doesNotHaveBean(Dispatcher.class).hasSingleBean(JobStore.class);
    });
  }

  @Test
  void dispatcher_disabled_isNotCreatedEvenWithAProvider() {
    runner.withUserConfiguration(VirtualCloudConfig.class).withPropertyValues("acceldispatch.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Dispatcher.class));
  }

  @Test
  void dispatcher_hostProviderAndProperties_appliesTenantQuotaAndEngineSettings() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withPropertyValues(
            "acceldispatch.fleet-id=fleet-a",
            "acceldispatch.tenants.research.max-concurrent-devices=8",
            "acceldispatch.tenants.research.weight=2",
            "acceldispatch.engine.max-queued-jobs=2",
            "acceldispatch.engine.poll-interval=5s",
            "acceldispatch.engine.poll-interval-max=1m")
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(Dispatcher.class).hasSingleBean(InMemoryJobStore.class);
          Dispatcher dispatcher = context.getBean(Dispatcher.class);
          ManualScheduler scheduler = context.getBean(ManualScheduler.class);

          JobHandle first = dispatcher.submit(job("a", "research"));
          JobHandle second = dispatcher.submit(job("b", "research"));
          assertThatThrownBy(() -> dispatcher.submit(job("c", "research"))).isInstanceOf(QueueFullException.class);
          scheduler.advance(Duration.ofMinutes(10));

          // The tenant may hold 8 chips: one 8-chip job runs, the other waits for it.
          assertThat(first.state()).isEqualTo(JobState.RUNNING);
          assertThat(second.state()).isEqualTo(JobState.QUEUED);
          assertThat(context.getBean(CloudModel.class).resources())
              .allSatisfy(r -> assertThat(r.labels()).containsEntry(ProvisionRequest.LABEL_FLEET, "fleet-a"));
          scheduler.advance(Duration.ofHours(2));
          assertThat(second.state()).isEqualTo(JobState.SUCCEEDED);
        });
  }

  @Test
  void dispatcher_contextClosed_closesTheDispatcherAndReleasesItsMachines() {
    ManualScheduler[] scheduler = new ManualScheduler[1];
    CloudModel[] cloud = new CloudModel[1];
    Dispatcher[] dispatcher = new Dispatcher[1];
    runner.withUserConfiguration(VirtualCloudConfig.class).run(context -> {
      scheduler[0] = context.getBean(ManualScheduler.class);
      cloud[0] = context.getBean(CloudModel.class);
      dispatcher[0] = context.getBean(Dispatcher.class);
      dispatcher[0].submit(job("long", "research"));
      scheduler[0].advance(Duration.ofMinutes(5));
      assertThat(cloud[0].liveResources()).isEqualTo(1);
    });
    // In memory nothing could find the machine again, so closing cancelled the job and released it.
    scheduler[0].advance(Duration.ofMinutes(5));
    assertThat(cloud[0].liveResources()).isZero();
    assertThatThrownBy(() -> dispatcher[0].submit(job("late", "research"))).isInstanceOf(DispatcherClosedException.class);
  }

  @Test
  void jobStore_applicationDataSource_isTheJdbcStoreOnIt() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
        .withPropertyValues("spring.datasource.url=" + h2Url("store-auto"))
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(JdbcJobStore.class);
          assertThat(context.getBean(JobStore.class).isDurable()).isTrue();
          JobHandle job = context.getBean(Dispatcher.class).submit(job("stored", "research"));
          assertThat(context.getBean(JobStore.class).find(job.id())).isPresent();
        });
  }

  @Test
  void jobStore_typeMemoryWithADataSource_staysInMemory() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
        .withPropertyValues("spring.datasource.url=" + h2Url("store-memory"), "acceldispatch.store.type=memory")
        .run(context -> assertThat(context).hasNotFailed().hasSingleBean(InMemoryJobStore.class)
            .doesNotHaveBean(JdbcJobStore.class));
  }

  @Test
  void jobStore_typeJdbcWithoutDataSource_failsNamingWhatIsMissing() {
    runner.withUserConfiguration(VirtualCloudConfig.class).withPropertyValues("acceldispatch.store.type=jdbc")
        .run(context -> assertThat(context).hasFailed().getFailure()
            .rootCause().hasMessageContaining("acceldispatch.store.type=jdbc needs a DataSource bean"));
  }

  @Test
  void engine_pollIntervalWithoutMax_failsNamingBothProperties() {
    runner.withUserConfiguration(VirtualCloudConfig.class).withPropertyValues("acceldispatch.engine.poll-interval=1s")
        .run(context -> assertThat(context).hasFailed().getFailure()
            .rootCause().hasMessageContaining("acceldispatch.engine.poll-interval and poll-interval-max"));
  }

  @Test
  void tenants_invalidWeight_failsNamingTheTenant() {
    runner.withUserConfiguration(VirtualCloudConfig.class).withPropertyValues("acceldispatch.tenants.ops.weight=0")
        .run(context -> assertThat(context).hasFailed().getFailure()
            .hasStackTraceContaining("acceldispatch.tenants.ops: weight must be a positive number"));
  }

  @Test
  void metrics_applicationMeterRegistry_recordsEventsAndProviderCallsTaggedWithTheFleet() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("acceldispatch.fleet-id=fleet-m")
        .run(context -> {
          assertThat(context).hasSingleBean(DispatchMetrics.class);
          context.getBean(Dispatcher.class).submit(job("m", "research"));
          context.getBean(ManualScheduler.class).advance(Duration.ofHours(1));

          MeterRegistry registry = context.getBean(MeterRegistry.class);
          assertThat(registry.get("accel.dispatch.jobs.ended").tags("fleet", "fleet-m", "tenant", "research",
              "state", "succeeded").counter().count()).isEqualTo(1);
          assertThat(registry.get("accel.dispatch.provider.calls").tags("provider", "fake-tpu", "call", "provision")
              .timer().count()).isEqualTo(1);
          assertThat(registry.get("accel.dispatch.tenant.devices").tag("tenant", "research").gauge().value()).isZero();
        });
  }

  @Test
  void metrics_disabled_bindsNothing() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("acceldispatch.metrics.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(DispatchMetrics.class));
  }

  @Test
  void health_storeAnswers_isUpWithProvidersAndTenants() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withPropertyValues("acceldispatch.tenants.research.max-concurrent-devices=16")
        .run(context -> {
          context.getBean(Dispatcher.class).submit(job("h", "research"));
          context.getBean(ManualScheduler.class).advance(Duration.ofMinutes(5));

          Health health = context.getBean("accelDispatchHealthIndicator", HealthIndicator.class).health();

          assertThat(health.getStatus()).isEqualTo(Status.UP);
          assertThat(health.getDetails()).containsEntry("fleetId", "default")
              .containsKeys("store", "providers", "tenants");
          assertThat(health.getDetails().get("providers").toString()).contains("fake-tpu");
          assertThat(health.getDetails().get("tenants").toString()).contains("devicesInUse=8");
        });
  }

  @Test
  void health_storeUnreachable_isDownWithoutTheErrorMessage() {
    UnreachableStore store = new UnreachableStore();
    runner.withUserConfiguration(VirtualCloudConfig.class).withBean(JobStore.class, () -> store)
        .run(context -> {
          assertThat(context.getBean(JobStore.class)).isSameAs(store);
          store.down = true;

          Health health = context.getBean("accelDispatchHealthIndicator", HealthIndicator.class).health();

          assertThat(health.getStatus()).isEqualTo(Status.DOWN);
          assertThat(health.getDetails().get("store").toString()).contains("reachable=false")
              .doesNotContain(UnreachableStore.MESSAGE);
        });
  }

  @Test
  void health_managementHealthDisabled_hasNoIndicator() {
    runner.withUserConfiguration(VirtualCloudConfig.class)
        .withPropertyValues("management.health.acceldispatch.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("accelDispatchHealthIndicator"));
  }

  @Test
  void gcpTpu_hostTpuClientBean_isUsedAndNotReplaced() throws IOException {
    try (TpuClient hostClient = TpuClient.create(com.google.cloud.tpu.v2.TpuSettings.newBuilder()
        .setCredentialsProvider(NoCredentialsProvider.create()).build())) {
      runner.withBean("hostTpuClient", TpuClient.class, () -> hostClient)
          .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
          .withPropertyValues("acceldispatch.providers.gcp-tpu.enabled=true",
              "acceldispatch.providers.gcp-tpu.project=p", "acceldispatch.providers.gcp-tpu.zones=us-west4-a,us-central1-a",
              "acceldispatch.providers.gcp-tpu.egress=CLOUD_NAT")
          .run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(TpuClient.class).hasSingleBean(GcpTpuProvider.class);
            assertThat(context.getBean(TpuClient.class)).isSameAs(hostClient);
            assertThat(context.getBean(GcpTpuProvider.class).offers()).isNotEmpty()
                .allSatisfy(o -> assertThat(o.zone()).isIn("us-west4-a", "us-central1-a"));
          });
    }
  }

  @Test
  void gcpTpu_hostCredentialsOnly_starterMadeClientUsesThem() {
    CredentialsProvider credentials = NoCredentialsProvider.create();
    runner.withBean(CredentialsProvider.class, () -> credentials)
        .withPropertyValues("acceldispatch.providers.gcp-tpu.enabled=true",
            "acceldispatch.providers.gcp-tpu.project=p", "acceldispatch.providers.gcp-tpu.zones=us-west4-a",
            "acceldispatch.providers.gcp-tpu.external-ip=true")
        .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(TpuClient.class);
          assertThat(context.getBean(TpuClient.class).getSettings().getCredentialsProvider()).isSameAs(credentials);
        });
  }

  @Test
  void localProvider_enabled_runsAScriptOnThisMachine(@TempDir Path state) {
    runner.withPropertyValues("acceldispatch.providers.local.enabled=true",
            "acceldispatch.providers.local.state-directory=" + state, "acceldispatch.providers.local.cpu-slots=1",
            "acceldispatch.engine.poll-interval=100ms", "acceldispatch.engine.poll-interval-max=200ms")
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(LocalProvider.class);
          JobHandle job = context.getBean(Dispatcher.class).submit(JobSpec.builder("hello").script("exit 0")
              .accelerators(Shapes.cpu()).build());

          JobResult result = job.result().get(60, TimeUnit.SECONDS);

          assertThat(result.state()).isEqualTo(JobState.SUCCEEDED);
          assertThat(result.lastAttempt()).hasValueSatisfying(a -> assertThat(a.offer().providerId()).isEqualTo("local"));
        });
  }

  @Test
  void azureGpu_hostComputeManagerBean_isUsedAndNotReplaced() {
    ComputeManager hostCompute = ComputeManager.authenticate(new HttpPipelineBuilder().build(),
        new AzureProfile("tenant", "00000000-0000-0000-0000-000000000000", AzureEnvironment.AZURE));
    runner.withBean("hostCompute", ComputeManager.class, () -> hostCompute)
        .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
        .withPropertyValues("acceldispatch.providers.azure-gpu.enabled=true",
            "acceldispatch.providers.azure-gpu.resource-group=ml", "acceldispatch.providers.azure-gpu.regions=eastus",
            "acceldispatch.providers.azure-gpu.subnet=/subscriptions/s/resourceGroups/net/providers/Microsoft.Network"
                + "/virtualNetworks/v/subnets/gpu",
            "acceldispatch.providers.azure-gpu.user-assigned-identity=/subscriptions/s/resourceGroups/ml/providers"
                + "/Microsoft.ManagedIdentity/userAssignedIdentities/dispatch",
            "acceldispatch.providers.azure-gpu.subnet-egress=NAT_GATEWAY",
            "acceldispatch.providers.azure-gpu.sizes=Standard_NC24ads_A100_v4")
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(ComputeManager.class).hasSingleBean(AzureGpuProvider.class);
          assertThat(context.getBean(ComputeManager.class)).isSameAs(hostCompute);
          assertThat(context.getBean(AzureGpuProvider.class).offers()).isNotEmpty()
              .allSatisfy(o -> assertThat(o.region()).isEqualTo("eastus"));
        });
  }

  /**
   * The GPU provider reads each zone's machine and accelerator types when it is built, so the host's
   * four clients point at the testkit's Compute Engine emulator rather than at Google.
   */
  @Test
  void gcpGpu_hostComputeClients_areUsedAndNotReplaced() throws IOException {
    try (GceEmulator emulator = new GceEmulator(CloudModel.create()).start();
        InstancesClient instances = InstancesClient.create(emulator.instancesSettings());
        ZoneOperationsClient operations = ZoneOperationsClient.create(emulator.zoneOperationsSettings());
        MachineTypesClient machineTypes = MachineTypesClient.create(emulator.machineTypesSettings());
        AcceleratorTypesClient acceleratorTypes = AcceleratorTypesClient.create(emulator.acceleratorTypesSettings())) {
      runner.withBean("hostInstances", InstancesClient.class, () -> instances)
          .withBean("hostOperations", ZoneOperationsClient.class, () -> operations)
          .withBean("hostMachineTypes", MachineTypesClient.class, () -> machineTypes)
          .withBean("hostAcceleratorTypes", AcceleratorTypesClient.class, () -> acceleratorTypes)
          .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
          .withPropertyValues("acceldispatch.providers.gcp-gpu.enabled=true",
              "acceldispatch.providers.gcp-gpu.project=p", "acceldispatch.providers.gcp-gpu.zones=us-central1-a",
              "acceldispatch.providers.gcp-gpu.egress=private-google-access",
              "acceldispatch.providers.gcp-gpu.catalog-refresh=10m")
          .run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(GcpGpuProvider.class);
            assertThat(context.getBean(InstancesClient.class)).isSameAs(instances);
            assertThat(context.getBean(ZoneOperationsClient.class)).isSameAs(operations);
            assertThat(context.getBean(MachineTypesClient.class)).isSameAs(machineTypes);
            assertThat(context.getBean(AcceleratorTypesClient.class)).isSameAs(acceleratorTypes);
            assertThat(context.getBean(GcpGpuProvider.class).offers()).isNotEmpty()
                .allSatisfy(o -> assertThat(o.zone()).isEqualTo("us-central1-a"));
            assertThat(context.getBean(Dispatcher.class)).isNotNull();
          });
    }
  }

  @Test
  void gcpTpu_egressMissing_failsNamingTheProperty() {
    runner.withBean(CredentialsProvider.class, NoCredentialsProvider::create)
        .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
        .withPropertyValues("acceldispatch.providers.gcp-tpu.enabled=true",
            "acceldispatch.providers.gcp-tpu.project=p", "acceldispatch.providers.gcp-tpu.zones=us-west4-a")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("acceldispatch.providers.gcp-tpu.egress")
            .hasMessageContaining("CLOUD_NAT").hasMessageContaining("PRIVATE_GOOGLE_ACCESS")
            .hasMessageContaining("acceldispatch.providers.gcp-tpu.external-ip=true"));
  }

  /** The check comes before the provider reads any zone, so no cloud (nor emulator) is needed. */
  @Test
  void gcpGpu_egressMissing_failsNamingTheProperty() {
    runner.withBean(CredentialsProvider.class, NoCredentialsProvider::create)
        .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
        .withPropertyValues("acceldispatch.providers.gcp-gpu.enabled=true",
            "acceldispatch.providers.gcp-gpu.project=p", "acceldispatch.providers.gcp-gpu.zones=us-central1-a",
            "acceldispatch.providers.gcp-gpu.external-ip=false")
        .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("acceldispatch.providers.gcp-gpu.egress")
            .hasMessageContaining("CLOUD_NAT").hasMessageContaining("PRIVATE_GOOGLE_ACCESS"));
  }

  @Test
  void gcpTpu_egressUnknown_failsNamingThePropertyAndTheAllowedValues() {
    runner.withBean(CredentialsProvider.class, NoCredentialsProvider::create)
        .withBean(DispatcherCustomizer.class, AccelDispatchAutoConfigurationTest::offline)
        .withPropertyValues("acceldispatch.providers.gcp-tpu.enabled=true",
            "acceldispatch.providers.gcp-tpu.project=p", "acceldispatch.providers.gcp-tpu.zones=us-west4-a",
            "acceldispatch.providers.gcp-tpu.egress=NAT_GATEWAY")
        .run(context -> assertThat(context).hasFailed().getFailure()
            .hasStackTraceContaining("acceldispatch.providers.gcp-tpu.egress: 'NAT_GATEWAY' is not one of "
                + "[CLOUD_NAT, PRIVATE_GOOGLE_ACCESS]"));
  }

  @Test
  void configurationMetadata_generated_describesEveryGroupForIdeCompletion() throws IOException {
    String metadata;
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("the configuration processor's output").isNotNull();
      metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(metadata).contains("\"acceldispatch.fleet-id\"", "\"acceldispatch.store.type\"",
        "\"acceldispatch.engine.capacity-block\"", "\"acceldispatch.providers.gcp-tpu.zones\"",
        "\"acceldispatch.providers.gcp-gpu.project\"", "\"acceldispatch.providers.azure-gpu.resource-group\"",
        "\"acceldispatch.providers.gcp-tpu.egress\"", "\"acceldispatch.providers.gcp-tpu.external-ip\"",
        "\"acceldispatch.providers.gcp-gpu.egress\"", "\"acceldispatch.providers.gcp-gpu.catalog-refresh\"",
        "\"acceldispatch.providers.local.state-directory\"", "\"acceldispatch.dashboard.path\"",
        "the Google Cloud project id");
  }

  @Test
  void readme_yamlExample_bindsToTheProperties() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    String section = readme.substring(readme.indexOf("## Spring Boot"));
    String yaml = section.substring(section.indexOf("```yaml\n") + 8, section.indexOf("```", section.indexOf("```yaml\n") + 8));
    var sources = new YamlPropertySourceLoader().load("readme", new ByteArrayResource(yaml.getBytes(StandardCharsets.UTF_8)));
    MockEnvironment environment = new MockEnvironment();
    sources.forEach(environment.getPropertySources()::addLast);

    AccelDispatchProperties p = Binder.get(environment).bind("acceldispatch", AccelDispatchProperties.class).get();

    assertThat(p.fleetId()).isEqualTo("training");
    assertThat(p.providers().gcpTpu().enabled()).isTrue();
    assertThat(p.providers().gcpTpu().zones()).containsExactly("us-west4-a", "us-central1-a");
    assertThat(p.providers().gcpTpu().egress()).isEqualTo("CLOUD_NAT");
    assertThat(p.providers().local().enabled()).isTrue();
    assertThat(p.tenants().get("research").maxConcurrentDevices()).isEqualTo(16);
    assertThat(p.tenants().get("research").weight()).isEqualTo(2.0);
    assertThat(p.engine().capacityBlock()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void properties_boundFromKebabCase_reachTheRecords() {
    runner.withPropertyValues("acceldispatch.providers.azure-gpu.subnets.eastus=/subscriptions/s/subnets/a",
            "acceldispatch.providers.local.cpu-slots=3", "acceldispatch.dashboard.path=/ops/jobs",
            "acceldispatch.engine.capacity-block=5m", "acceldispatch.tenants.research.budget=1200.50")
        .run(context -> {
          AccelDispatchProperties p = context.getBean(AccelDispatchProperties.class);
          assertThat(p.providers().azureGpu().subnets()).containsEntry("eastus", "/subscriptions/s/subnets/a");
          assertThat(p.providers().local().cpuSlots()).isEqualTo(3);
          assertThat(p.dashboard().enabled()).isFalse();
          assertThat(p.dashboard().path()).isEqualTo("/ops/jobs");
          assertThat(p.engine().capacityBlock()).isEqualTo(Duration.ofMinutes(5));
          assertThat(p.tenants().get("research").budget()).isEqualByComparingTo("1200.50");
          assertThat(p.store().type()).isEqualTo(AccelDispatchProperties.StoreType.AUTO);
        });
  }

  /**
   * A dispatcher whose virtual time never moves: it makes no call to the (unreachable) real cloud,
   * not even its start-up reconcile.
   */
  private static DispatcherCustomizer offline() {
    ManualScheduler idle = new ManualScheduler();
    return b -> b.scheduler(idle).providerExecutor(Runnable::run);
  }

  private static String h2Url(String name) {
    return "jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1";
  }
}
