package dev.acceldispatch.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;

/**
 * A whole Spring Boot application on the emulated Google clouds: the host provides the SDK clients
 * (pointed at the TPU and Compute Engine emulators) and an H2 DataSource; the starter wires the two
 * providers, the JDBC store, metrics and health from properties alone. The TPU zones are out of
 * stock, so the job fails over to Compute Engine H100s.
 */
@SpringBootTest(
    classes = EmulatedCloudsSpringBootTest.EmulatedCloudsApp.class,
    properties = {
      "spring.datasource.url=jdbc:h2:mem:emulated;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
      "acceldispatch.fleet-id=boot-test",
      "acceldispatch.engine.poll-interval=100ms",
      "acceldispatch.engine.poll-interval-max=500ms",
      "acceldispatch.tenants.research.max-concurrent-devices=16",
      "acceldispatch.providers.gcp-tpu.enabled=true",
      "acceldispatch.providers.gcp-tpu.project=demo-project",
      "acceldispatch.providers.gcp-tpu.zones=us-west4-a,us-central1-a",
      "acceldispatch.providers.gcp-tpu.egress=CLOUD_NAT",
      "acceldispatch.providers.gcp-tpu.call-timeout=10s",
      "acceldispatch.providers.gcp-gpu.enabled=true",
      "acceldispatch.providers.gcp-gpu.project=demo-project",
      "acceldispatch.providers.gcp-gpu.zones=us-central1-a",
      "acceldispatch.providers.gcp-gpu.egress=CLOUD_NAT",
      "acceldispatch.providers.gcp-gpu.call-timeout=10s",
    })
@DirtiesContext // closes the dispatcher, SDK clients and emulators after this class, not at JVM exit
class EmulatedCloudsSpringBootTest {

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class EmulatedCloudsApp {
    @Bean
    CloudModel tpuCloud() {
      return CloudModel.create().setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofSeconds(1), 0)
          .stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(1))
          .stockout("us-central1-a", CloudModel.ANY, Duration.ofHours(1));
    }

    @Bean
    CloudModel gceCloud() {
      return CloudModel.create().setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofSeconds(1), 0);
    }

    @Bean(destroyMethod = "close")
    TpuEmulator tpuEmulator(@Qualifier("tpuCloud") CloudModel cloud) {
      return TpuEmulator.create(cloud).start();
    }

    @Bean(destroyMethod = "close")
    GceEmulator gceEmulator(@Qualifier("gceCloud") CloudModel cloud) {
      return new GceEmulator(cloud).start();
    }

    /** The host's own client: the starter must use it rather than make one. */
    @Bean(destroyMethod = "close")
    TpuClient hostTpuClient(TpuEmulator emulator) throws IOException {
      return TpuClient.create(emulator.clientSettings());
    }

    @Bean(destroyMethod = "close")
    InstancesClient hostInstancesClient(GceEmulator emulator) throws IOException {
      return InstancesClient.create(emulator.instancesSettings());
    }

    @Bean(destroyMethod = "close")
    ZoneOperationsClient hostZoneOperationsClient(GceEmulator emulator) throws IOException {
      return ZoneOperationsClient.create(emulator.zoneOperationsSettings());
    }

    @Bean(destroyMethod = "close")
    MachineTypesClient hostMachineTypesClient(GceEmulator emulator) throws IOException {
      return MachineTypesClient.create(emulator.machineTypesSettings());
    }

    @Bean(destroyMethod = "close")
    AcceleratorTypesClient hostAcceleratorTypesClient(GceEmulator emulator) throws IOException {
      return AcceleratorTypesClient.create(emulator.acceleratorTypesSettings());
    }
  }

  @Autowired Dispatcher dispatcher;
  @Autowired JobStore store;
  @Autowired MeterRegistry registry;
  @Autowired TpuClient tpuClient;
  @Autowired ApplicationContext context;
  @Autowired GcpTpuProvider tpu;
  @Autowired GcpGpuProvider gce;
  @Autowired @Qualifier("gceCloud") CloudModel gceCloud;
  @Autowired @Qualifier("accelDispatchHealthIndicator") HealthIndicator health;

  @Test
  void submit_tpuZonesOutOfStock_failsOverToComputeEngineWithStoreMetricsAndHealthFromProperties() throws Exception {
    assertThat(store).isInstanceOf(JdbcJobStore.class);
    // The host's SDK clients, on the emulators, are the only ones: the starter made none of its own.
    assertThat(context.getBeanNamesForType(TpuClient.class)).containsExactly("hostTpuClient");
    assertThat(context.getBeanNamesForType(InstancesClient.class)).containsExactly("hostInstancesClient");
    assertThat(context.getBeanNamesForType(ZoneOperationsClient.class)).containsExactly("hostZoneOperationsClient");
    assertThat(context.getBeanNamesForType(MachineTypesClient.class)).containsExactly("hostMachineTypesClient");
    assertThat(context.getBeanNamesForType(AcceleratorTypesClient.class)).containsExactly("hostAcceleratorTypesClient");

    JobResult result = dispatcher.submit(JobSpec.builder("finetune").script("echo training")
            .accelerators(AcceleratorRequest.anyOf(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8)))
            .tenant("research").build())
        .result().get(60, TimeUnit.SECONDS);

    assertThat(result.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(result.lastAttempt()).hasValueSatisfying(a -> assertThat(a.offer().providerId()).isEqualTo(gce.id()));
    assertThat(store.find(result.jobId())).hasValueSatisfying(r -> assertThat(r.state()).isEqualTo(JobState.SUCCEEDED));
    assertThat(registry.get("accel.dispatch.failovers").tags("fleet", "boot-test", "provider", tpu.id(), "reason", "capacity")
        .counters().stream().mapToDouble(c -> c.count()).sum()).isPositive();
    assertThat(registry.get("accel.dispatch.jobs.ended").tags("tenant", "research", "state", "succeeded").counter().count())
        .isEqualTo(1);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    Await.until("the Compute Engine VM to be deleted", Duration.ofSeconds(30), Duration.ofMillis(100),
        () -> gceCloud.liveResources() == 0 ? true : null);
  }
}
