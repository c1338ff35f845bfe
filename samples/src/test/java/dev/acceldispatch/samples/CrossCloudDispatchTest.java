package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.resourcemanager.compute.ComputeManager;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Plan;
import dev.acceldispatch.PlannedOffer;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.azure.gpu.AzureGpuProvider;
import dev.acceldispatch.azure.gpu.SubnetEgress;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import dev.acceldispatch.testkit.emulator.gce.GceEmulator;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/**
 * One dispatcher wired with the three real cloud providers, each through its real SDK client
 * against its emulator, all three emulators on one cloud model: a job that runs on either a TPU
 * v5e x8 slice or eight H100s goes to the cheapest, and to the next cheapest cloud when the
 * cheapest is stocked out.
 */
class CrossCloudDispatchTest {
  private static final AcceleratorShape V5E8 = Shapes.tpuV5e(8);
  private static final AcceleratorShape H100X8 = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);
  private static final String PROJECT = "cross-cloud";
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final Duration EVERY = Duration.ofMillis(50);

  private CloudModel model;
  private TpuEmulator tpuEmulator;
  private GceEmulator gceEmulator;
  private AzureEmulator azureEmulator;
  private TpuClient tpu;
  private InstancesClient instances;
  private ZoneOperationsClient zoneOperations;
  private MachineTypesClient machineTypes;
  private AcceleratorTypesClient acceleratorTypes;
  private GcpTpuProvider tpuProvider;
  private Dispatcher dispatcher;
  private final RecordingListener events = new RecordingListener();

  @BeforeEach
  void start() throws IOException {
    model = CloudModel.create().setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofSeconds(1), 0);

    tpuEmulator = TpuEmulator.create(model).start();
    tpu = TpuClient.create(tpuEmulator.clientSettings());
    tpuProvider = GcpTpuProvider.builder(tpu).project(PROJECT).egress(NetworkEgress.CLOUD_NAT).zones("us-central1-a", "us-west4-a")
        .callTimeout(Duration.ofSeconds(5)).build();

    gceEmulator = new GceEmulator(model).start();
    instances = InstancesClient.create(gceEmulator.instancesSettings());
    zoneOperations = ZoneOperationsClient.create(gceEmulator.zoneOperationsSettings());
    machineTypes = MachineTypesClient.create(gceEmulator.machineTypesSettings());
    acceleratorTypes = AcceleratorTypesClient.create(gceEmulator.acceleratorTypesSettings());

    azureEmulator = AzureEmulator.create(model).start();
    String subscription = "00000000-0000-0000-0000-00000000cc01";
    ComputeManager azure = azureEmulator.computeManager(subscription, AzureGpuProvider.retryPolicy());
    String identity = "/subscriptions/" + subscription + "/resourceGroups/id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vm";
    azureEmulator.grantRole(identity, AzureEmulator.ROLE_TAG_CONTRIBUTOR, "/subscriptions/" + subscription + "/resourceGroups/ml");

    dispatcher = Dispatcher.builder()
        .provider(tpuProvider)
        .provider(GcpGpuProvider.builder(instances, zoneOperations).zoneCatalog(machineTypes, acceleratorTypes)
            .project(PROJECT).egress(NetworkEgress.CLOUD_NAT).zones("us-central1-a")
            .callTimeout(Duration.ofSeconds(5)).build())
        .provider(AzureGpuProvider.builder(azure)
            .resourceGroup("ml").regions("eastus")
            .subnet("/subscriptions/" + subscription + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/gpu")
            .subnetEgress(SubnetEgress.NAT_GATEWAY)
            .userAssignedIdentity(identity)
            .sshPublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICrossCloudTestKeyOnly test@accel")
            .callTimeout(Duration.ofSeconds(15))
            .build())
        .listener(events)
        .pollInterval(Duration.ofMillis(200), Duration.ofSeconds(1))
        .shutdownTimeout(Duration.ofSeconds(10))
        .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    dispatcher.close();
    tpuProvider.close();
    tpu.close();
    instances.close();
    zoneOperations.close();
    machineTypes.close();
    acceleratorTypes.close();
    tpu.awaitTermination(10, TimeUnit.SECONDS);
    instances.awaitTermination(10, TimeUnit.SECONDS);
    zoneOperations.awaitTermination(10, TimeUnit.SECONDS);
    machineTypes.awaitTermination(10, TimeUnit.SECONDS);
    acceleratorTypes.awaitTermination(10, TimeUnit.SECONDS);
    tpuEmulator.close();
    gceEmulator.close();
    azureEmulator.close();
  }

  @AfterAll
  static void noThreadsLeft() {
    assertNoDispatcherThreadLeft();
    // The Azure SDK's retry delays run on Reactor's shared schedulers; they are recreated on demand.
    Schedulers.shutdownNow();
  }

  /** What a dispatcher starts (its engine thread and provider pool) ends with close(). */
  private static void assertNoDispatcherThreadLeft() {
    Await.noThreadAlive("accel-dispatch-", Duration.ofSeconds(5));
  }

  private static JobSpec spec() {
    return JobSpec.builder("finetune-7b")
        .container("us-docker.pkg.dev/cross-cloud/train:1.4", "python", "train.py", "--epochs=3")
        .accelerators(AcceleratorRequest.anyOf(V5E8, H100X8))
        .referenceRunTime(H100X8, Duration.ofHours(2))
        .build();
  }

  private JobResult run(JobSpec spec) {
    var job = dispatcher.submit(spec);
    return Await.until("the end of job " + job.id(), PATIENCE, EVERY,
        () -> job.result().isDone() ? job.result().join() : null);
  }

  /** The best-ranked offer of each provider, in rank order. */
  private static Map<String, PlannedOffer> bestPerProvider(Plan plan) {
    Map<String, PlannedOffer> best = new LinkedHashMap<>();
    for (PlannedOffer p : plan.ranked()) {
      best.putIfAbsent(p.offer().providerId(), p);
    }
    return best;
  }

  @Test
  void plan_jobAcceptingTpuOrH100_ranksTheThreeCloudsCheapestFirstWithReasons() {
    Plan plan = dispatcher.plan(spec());

    Map<String, PlannedOffer> best = bestPerProvider(plan);
    assertThat(best.keySet()).containsExactly(GcpTpuProvider.DEFAULT_ID, GcpGpuProvider.DEFAULT_ID, "azure-gpu");
    List<PlannedOffer> heads = new ArrayList<>(best.values());
    assertThat(heads.get(0).offer().shape()).isEqualTo(V5E8);
    assertThat(heads.get(1).offer().shape()).isEqualTo(H100X8);
    assertThat(heads.get(2).offer().shape()).isEqualTo(H100X8);
    assertThat(heads).extracting(PlannedOffer::estimatedCost).isSorted();
    assertThat(plan.ranked()).extracting(PlannedOffer::rank).isSorted();
    assertThat(plan.ranked()).allSatisfy(p -> assertThat(p.reason()).isNotBlank());
    assertThat(plan.toString()).contains("gcp-tpu/").contains("gcp-gpu/").contains("azure-gpu/");
    assertThat(model.calls(TpuEmulator.OP_CREATE)).as("planning creates nothing").isEmpty();
    assertThat(model.calls("gce.insert")).isEmpty();
    assertThat(model.calls(AzureEmulator.OP_PUT)).isEmpty();
  }

  @Test
  void submit_jobAcceptingTpuOrH100_runsOnTheCheapestTpuSlice() {
    JobResult r = run(spec());

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(r.attempts()).singleElement().satisfies(a -> {
      assertThat(a.offer().providerId()).isEqualTo(GcpTpuProvider.DEFAULT_ID);
      assertThat(a.offer().shape()).isEqualTo(V5E8);
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    });
    assertThat(r.cost().amount()).isPositive();
    assertThat(model.calls("gce.insert")).isEmpty();
    assertThat(model.calls(AzureEmulator.OP_PUT)).isEmpty();
    assertThat(model.liveResources()).isZero();
    // A TPU delete takes time (the queued resource shows DELETING first, rule TPU-8).
    dev.acceldispatch.testkit.Await.until("queued resources gone", Duration.ofSeconds(10), Duration.ofMillis(50),
        () -> tpuEmulator.queuedResourceCount() == 0 ? true : null);
  }

  @Test
  void submit_stockoutOnTheCheapestCloud_landsOnTheNextCheapestCloud() {
    model.stockout(CloudModel.ANY, TpuEmulator.POOL, Duration.ofHours(1));

    JobResult r = run(spec());

    assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
    List<Attempt> attempts = r.attempts();
    Attempt last = attempts.get(attempts.size() - 1);
    assertThat(last.offer().providerId()).isEqualTo(GcpGpuProvider.DEFAULT_ID);
    assertThat(last.offer().shape()).isEqualTo(H100X8);
    assertThat(last.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    assertThat(attempts.subList(0, attempts.size() - 1)).isNotEmpty().allSatisfy(a -> {
      assertThat(a.offer().providerId()).isEqualTo(GcpTpuProvider.DEFAULT_ID);
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.CAPACITY);
    });
    assertThat(events.events(DispatchEvent.Failover.class)).hasSize(attempts.size() - 1)
        .allSatisfy(f -> assertThat(f.kind()).isEqualTo("capacity"));
    assertThat(model.calls(AzureEmulator.OP_PUT)).as("the dearest cloud was never asked").isEmpty();
    // Now the plan puts the next cheapest cloud first and says why the TPU slices are out.
    Plan after = dispatcher.plan(spec());
    assertThat(after.ranked().get(0).offer().providerId()).isEqualTo(GcpGpuProvider.DEFAULT_ID);
    assertThat(after.excluded()).anySatisfy(line -> assertThat(line).contains("gcp-tpu/").contains("capacity"));
    assertThat(model.liveResources()).isZero();
    // A TPU delete takes time (the queued resource shows DELETING first, rule TPU-8).
    dev.acceldispatch.testkit.Await.until("queued resources gone", Duration.ofSeconds(10), Duration.ofMillis(50),
        () -> tpuEmulator.queuedResourceCount() == 0 ? true : null);
  }
}
