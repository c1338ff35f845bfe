package dev.acceldispatch.testkit.emulator.gce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.client.http.HttpResponseException;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.httpjson.InstantiatingHttpJsonChannelProvider;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.NotFoundException;
import com.google.api.gax.rpc.PermissionDeniedException;
import com.google.api.gax.rpc.UnavailableException;
import com.google.api.gax.rpc.InvalidArgumentException;
import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.GetGuestAttributesInstanceRequest;
import com.google.cloud.compute.v1.GuestAttributes;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.ListInstancesRequest;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.WaitZoneOperationRequest;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The emulator seen through the real {@code InstancesClient}: the wire shapes the client parses,
 * the operation semantics (including the trap of a DONE operation with an error and no HTTP
 * status), requestId dedupe, faults, guest attributes and listing.
 */
class GceEmulatorTest {
  private static final String P = "p";
  private static final String Z = "us-central1-a";
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static CloudModel model;
  private static GceEmulator emulator;
  private static InstancesClient instances;
  private static ZoneOperationsClient operations;

  @BeforeAll
  static void start() throws IOException {
    model = CloudModel.create().setProvisioningTime(Duration.ofMillis(200)).setDefaultWorkload(Duration.ofMillis(300), 0);
    emulator = new GceEmulator(model).start();
    String ep = emulator.endpoint();
    // Short LRO polling for the test; the SDK's polling logic itself is unchanged.
    RetrySettings fastPolling = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(Duration.ofMillis(20)).setRetryDelayMultiplier(1.5)
        .setMaxRetryDelayDuration(Duration.ofMillis(200)).setTotalTimeoutDuration(Duration.ofSeconds(20))
        .setInitialRpcTimeoutDuration(Duration.ZERO).setRpcTimeoutMultiplier(1.0).setMaxRpcTimeoutDuration(Duration.ZERO)
        .build();
    InstancesSettings.Builder s = InstancesSettings.newBuilder().setEndpoint(ep)
        .setCredentialsProvider(NoCredentialsProvider.create())
        .setTransportChannelProvider(InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(ep).build());
    s.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(fastPolling));
    instances = InstancesClient.create(s.build());
    operations = ZoneOperationsClient.create(ZoneOperationsSettings.newBuilder().setEndpoint(ep)
        .setCredentialsProvider(NoCredentialsProvider.create())
        .setTransportChannelProvider(InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(ep).build()).build());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    instances.close();
    operations.close();
    instances.awaitTermination(10, TimeUnit.SECONDS);
    operations.awaitTermination(10, TimeUnit.SECONDS);
    emulator.close();
  }

  @AfterEach
  void reset() {
    model.clearFaults().clearStockouts().clearQuotas();
    emulator.stockoutHttpStatus(503).quotaErrorsInOperation(false).throttleWith429(false).stockoutDelay(Duration.ZERO);
  }

  private static String name() {
    return "vm-" + SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100_000, 36);
  }

  private static Instance t4(String name, String script) {
    return Instance.newBuilder()
        .setName(name)
        .setMachineType("zones/" + Z + "/machineTypes/n1-standard-4")
        .addGuestAccelerators(AcceleratorConfig.newBuilder().setAcceleratorType("zones/" + Z + "/acceleratorTypes/nvidia-tesla-t4").setAcceleratorCount(1))
        .setScheduling(Scheduling.newBuilder().setProvisioningModel("SPOT").setOnHostMaintenance("TERMINATE").setInstanceTerminationAction("STOP"))
        .putLabels("fleet", "f1")
        .setMetadata(Metadata.newBuilder()
            .addItems(Items.newBuilder().setKey("startup-script").setValue(script))
            .addItems(Items.newBuilder().setKey("enable-guest-attributes").setValue("TRUE")))
        .build();
  }

  private static Instance builtIn(String name, String zone, String machineType, String diskType, boolean gvnic) {
    AttachedDiskInitializeParams.Builder params = AttachedDiskInitializeParams.newBuilder().setSourceImage("projects/p/global/images/i");
    if (diskType != null) {
      params.setDiskType("zones/" + zone + "/diskTypes/" + diskType);
    }
    NetworkInterface.Builder nic = NetworkInterface.newBuilder().setNetwork("global/networks/default");
    if (gvnic) {
      nic.setNicType("GVNIC");
    }
    return Instance.newBuilder().setName(name).setMachineType("zones/" + zone + "/machineTypes/" + machineType)
        .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setInitializeParams(params))
        .addNetworkInterfaces(nic)
        .setScheduling(Scheduling.newBuilder().setOnHostMaintenance("TERMINATE"))
        .build();
  }

  /** Rule GCE-1: an unset diskType is pd-standard, which G2 does not support: the operation ends UNSUPPORTED_OPERATION. */
  @Test
  void insert_g2WithDefaultPdStandardBootDisk_operationEndsUnsupportedOperation() {
    Instance vm = builtIn(name(), Z, "g2-standard-4", null, false);
    Operation op = instances.insertCallable().call(InsertInstanceRequest.newBuilder().setProject(P).setZone(Z)
        .setInstanceResource(vm).setRequestId(UUID.randomUUID().toString()).build());
    Operation done = operations.get(P, Z, op.getName());
    assertThat(done.getError().getErrors(0).getCode()).isEqualTo("UNSUPPORTED_OPERATION");
    assertThat(done.getError().getErrors(0).getMessage()).contains("pd-standard").contains("g2-standard-4");
    assertThat(model.find(vm.getName())).isEmpty();

    Instance balanced = builtIn(name(), Z, "g2-standard-4", "pd-balanced", false);
    Operation ok = instances.insertCallable().call(InsertInstanceRequest.newBuilder().setProject(P).setZone(Z)
        .setInstanceResource(balanced).setRequestId(UUID.randomUUID().toString()).build());
    assertThat(operations.get(P, Z, ok.getName()).hasError()).isFalse();
  }

  /** Rule GCE-2: machine types exist by zone, served by machineTypes.list / acceleratorTypes.list; inserts elsewhere are refused. */
  @Test
  void machineTypes_byZone_listedAndEnforced() throws Exception {
    try (MachineTypesClient machineTypes = MachineTypesClient.create(emulator.machineTypesSettings());
        AcceleratorTypesClient acceleratorTypes = AcceleratorTypesClient.create(emulator.acceleratorTypesSettings())) {
      List<String> inF = new java.util.ArrayList<>();
      machineTypes.list(P, "us-central1-f").iterateAll().forEach(m -> inF.add(m.getName()));
      assertThat(inF).contains("a2-highgpu-1g", "n1-standard-4").doesNotContain("a3-highgpu-8g", "g2-standard-4");
      List<String> accelsInF = new java.util.ArrayList<>();
      acceleratorTypes.list(P, "us-central1-f").iterateAll().forEach(a -> accelsInF.add(a.getName()));
      assertThat(accelsInF).containsExactlyInAnyOrder("nvidia-tesla-a100", "nvidia-tesla-t4");
      machineTypes.list(P, Z).iterateAll().forEach(m -> {
        if (m.getName().equals("a3-highgpu-8g")) {
          assertThat(m.getAccelerators(0).getGuestAcceleratorType()).isEqualTo("nvidia-h100-80gb");
          assertThat(m.getAccelerators(0).getGuestAcceleratorCount()).isEqualTo(8);
        }
      });
    }
    String f = "us-central1-f";
    assertThatThrownBy(() -> instances.insertCallable().call(InsertInstanceRequest.newBuilder().setProject(P).setZone(f)
        .setInstanceResource(builtIn(name(), f, "a3-highgpu-8g", "pd-balanced", true)).setRequestId(UUID.randomUUID().toString()).build()))
        .isInstanceOf(InvalidArgumentException.class).hasStackTraceContaining("does not exist in zone 'us-central1-f'");
  }

  /** Rule GCE-3: A3 machines must use gVNIC. */
  @Test
  void insert_a3WithoutGvnic_isRefused() {
    assertThatThrownBy(() -> instances.insertCallable().call(InsertInstanceRequest.newBuilder().setProject(P).setZone(Z)
        .setInstanceResource(builtIn(name(), Z, "a3-highgpu-8g", "pd-balanced", false)).setRequestId(UUID.randomUUID().toString()).build()))
        .isInstanceOf(InvalidArgumentException.class).hasStackTraceContaining("GVNIC");
  }

  /** Rule GCE-4: an insert can end in its operation with a permission error (HTTP 403 on the operation). */
  @Test
  void failNextInsert_permissionError_endsTheOperationWithTheErrorAndNoInstance() {
    emulator.failNextInsert("PERMISSIONS_ERROR", "Required 'compute.subnetworks.use' permission for 'projects/p/regions/us-central1/subnetworks/s'", 403);
    Instance vm = t4(name(), "exit 0");
    Operation op = instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));
    Operation done = operations.get(P, Z, op.getName());
    assertThat(done.getHttpErrorStatusCode()).isEqualTo(403);
    assertThat(done.getError().getErrors(0).getCode()).isEqualTo("PERMISSIONS_ERROR");
    assertThat(model.find(vm.getName())).isEmpty();
  }

  /**
   * Rule GCE-10 (regression: the emulator mixed wall and model time): a stocked-out insert's
   * operation runs until the model's clock, not the wall clock, passes the stockout delay.
   */
  @Test
  void stockoutDelay_onAManualClock_operationEndsOnlyWhenModelTimeAdvances() throws Exception {
    dev.acceldispatch.testkit.ManualClock clock = new dev.acceldispatch.testkit.ManualClock();
    CloudModel manual = CloudModel.create(clock, 1);
    manual.stockout(Z, "nvidia-t4", Duration.ofHours(1));
    try (GceEmulator e = new GceEmulator(manual).stockoutDelay(Duration.ofSeconds(30)).start();
        InstancesClient i = InstancesClient.create(e.instancesSettings());
        ZoneOperationsClient o = ZoneOperationsClient.create(e.zoneOperationsSettings())) {
      Operation op = i.insertCallable().call(insert(t4(name(), "exit 0"), UUID.randomUUID().toString()));
      assertThat(o.get(P, Z, op.getName()).getStatus()).isEqualTo(Operation.Status.RUNNING);
      clock.advance(Duration.ofSeconds(31));
      Operation done = o.get(P, Z, op.getName());
      assertThat(done.getStatus()).isEqualTo(Operation.Status.DONE);
    }
  }

  /** Rule GCE-8: a startup script over 262144 bytes, or a spot VM that would live-migrate, is refused. */
  @Test
  void insert_oversizedStartupScriptOrSpotWithMigrate_is400() {
    Instance big = t4(name(), "x".repeat(262_145));
    assertThatThrownBy(() -> instances.insertCallable().call(insert(big, UUID.randomUUID().toString())))
        .rootCause().hasMessageContaining("400").hasMessageContaining("262144");
    Instance t4 = t4(name(), "exit 0");
    Instance migrating = t4.toBuilder().setScheduling(t4.getScheduling().toBuilder().setOnHostMaintenance("MIGRATE")).build();
    assertThatThrownBy(() -> instances.insertCallable().call(insert(migrating, UUID.randomUUID().toString())))
        .rootCause().hasMessageContaining("400").hasMessageContaining("TERMINATE");
  }

  private static InsertInstanceRequest insert(Instance vm, String requestId) {
    return InsertInstanceRequest.newBuilder().setProject(P).setZone(Z).setInstanceResource(vm).setRequestId(requestId).build();
  }

  @Test
  void insertAsync_stockoutWithoutHttpStatus_returnsNormallyWithTheErrorInTheOperation() throws Exception {
    emulator.stockoutHttpStatus(0);
    model.stockout(Z, "nvidia-t4", Duration.ofHours(1));

    Operation op = instances.insertAsync(insert(t4(name(), "exit 0"), UUID.randomUUID().toString())).get();

    assertThat(op.getStatus()).isEqualTo(Operation.Status.DONE);
    assertThat(op.hasError()).isTrue();
    assertThat(op.getError().getErrors(0).getCode()).isEqualTo("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS");
    assertThat(op.getError().getErrors(0).getErrorDetailsList()).anySatisfy(d ->
        assertThat(d.getErrorInfo().getMetadatasMap()).containsEntry("attachment", "nvidia-tesla-t4:1").containsEntry("zone", Z));
  }

  @Test
  void insertAsync_stockoutWithHttpStatus503_failsTheFutureWithUnavailable() {
    model.stockout(Z, "nvidia-t4", Duration.ofHours(1));

    assertThatThrownBy(() -> instances.insertAsync(insert(t4(name(), "exit 0"), UUID.randomUUID().toString())).get())
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(UnavailableException.class);
  }

  @Test
  void insert_quotaSynchronous_is403WithQuotaExceededBody() {
    model.setQuota(CloudModel.GLOBAL, "GPUS_ALL_REGIONS", 0);

    assertThatThrownBy(() -> instances.insertCallable().call(insert(t4(name(), "exit 0"), UUID.randomUUID().toString())))
        .isInstanceOf(PermissionDeniedException.class)
        .rootCause().isInstanceOf(HttpResponseException.class)
        .satisfies(e -> assertThat(((HttpResponseException) e).getContent())
            .contains("\"reason\":\"quotaExceeded\"").contains("Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally."));
  }

  @Test
  void insert_sameRequestIdTwice_returnsTheOriginalOperationAndAllocatesOnce() {
    String id = UUID.randomUUID().toString();
    Instance vm = t4(name(), "exit 0");
    long before = model.allocations();

    Operation first = instances.insertCallable().call(insert(vm, id));
    Operation second = instances.insertCallable().call(insert(vm, id));

    assertThat(second.getName()).isEqualTo(first.getName());
    assertThat(model.allocations() - before).isEqualTo(1);
  }

  @Test
  void insert_existingNameWithNewRequestId_is409AlreadyExists() {
    Instance vm = t4(name(), "exit 0");
    instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    assertThatThrownBy(() -> instances.insertCallable().call(insert(vm, UUID.randomUUID().toString())))
        .rootCause().isInstanceOf(HttpResponseException.class)
        .satisfies(e -> {
          assertThat(((HttpResponseException) e).getStatusCode()).isEqualTo(409);
          assertThat(((HttpResponseException) e).getContent()).contains("alreadyExists");
        });
  }

  @Test
  void insert_invalidLabelOrZeroRequestId_is400() {
    Instance badLabel = t4(name(), "exit 0").toBuilder().putLabels("Bad Key", "x").build();

    assertThatThrownBy(() -> instances.insertCallable().call(insert(badLabel, UUID.randomUUID().toString())))
        .rootCause().hasMessageContaining("400").hasMessageContaining("resource.labels");
    assertThatThrownBy(() -> instances.insertCallable().call(insert(t4(name(), "exit 0"), new UUID(0, 0).toString())))
        .rootCause().hasMessageContaining("zero UUID");
  }

  @Test
  void insert_lostResponse_createsTheInstanceButAnswers503() {
    model.injectFault("gce.insert", Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    Instance vm = t4(name(), "exit 0");

    assertThatThrownBy(() -> instances.insertCallable().call(insert(vm, UUID.randomUUID().toString())))
        .isInstanceOf(UnavailableException.class);
    assertThat(instances.get(P, Z, vm.getName()).getName()).isEqualTo(vm.getName());
  }

  @Test
  void throttledFault_is403RateLimitExceededWithRetryAfter() {
    model.injectFault("gce.get", Fault.throttled(Duration.ofSeconds(3)), 1);

    assertThatThrownBy(() -> instances.get(P, Z, "whatever"))
        .isInstanceOf(PermissionDeniedException.class)
        .rootCause().satisfies(e -> {
          HttpResponseException h = (HttpResponseException) e;
          assertThat(h.getContent()).contains("rateLimitExceeded");
          assertThat(h.getHeaders().getFirstHeaderStringValue("Retry-After")).isEqualTo("3");
        });
  }

  @Test
  void workloadEnd_runsTheStartupScriptOnce_andServesWhatItPutInGuestAttributes() {
    String script = "echo ran >> runs\nrc=5\ncurl -s -X PUT --data \"$rc\" -H 'Metadata-Flavor: Google' "
        + GceEmulator.GUEST_ATTRIBUTES_URL + "acceldispatch/exit-code\n";
    Instance vm = t4(name(), script);
    instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    GuestAttributes ga = Await.until("the exit code", Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
      assertThat(instances.get(P, Z, vm.getName()).getStatus()).isIn("PROVISIONING", "STAGING", "RUNNING");
      try {
        return instances.getGuestAttributes(GetGuestAttributesInstanceRequest.newBuilder()
            .setProject(P).setZone(Z).setInstance(vm.getName()).setVariableKey("acceldispatch/exit-code").build());
      } catch (NotFoundException notYet) {
        return null;
      }
    });
    instances.get(P, Z, vm.getName());
    GuestAttributes all = instances.getGuestAttributes(GetGuestAttributesInstanceRequest.newBuilder()
        .setProject(P).setZone(Z).setInstance(vm.getName()).setQueryPath("acceldispatch/").build());

    assertThat(ga.getVariableValue()).isEqualTo("5");
    assertThat(all.getQueryValue().getItemsList()).singleElement().satisfies(i -> {
      assertThat(i.getNamespace()).isEqualTo("acceldispatch");
      assertThat(i.getKey()).isEqualTo("exit-code");
    });
    assertThat(emulator.observedWorkload(vm.getName()).orElseThrow().file("runs")).isEqualTo("ran\n");
  }

  @Test
  void reporterWithoutMetadataFlavorHeader_isRefusedLikeTheRealMetadataServer() {
    String script = "curl -s -X PUT --data 0 " + GceEmulator.GUEST_ATTRIBUTES_URL + "acceldispatch/exit-code\n";
    Instance vm = t4(name(), script);
    instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    var result = Await.until("the script run", Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
      instances.get(P, Z, vm.getName());
      return emulator.observedWorkload(vm.getName()).orElse(null);
    });

    assertThat(result.exitCode()).isEqualTo(22);
    assertThat(result.stderr()).contains("Metadata-Flavor");
  }

  @Test
  void preemptedSpotInstanceWithStop_isTerminated() {
    Instance vm = t4(name(), "exit 0");
    model.planWorkload(vm.getName(), Duration.ofMinutes(10), 0);
    instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    model.preempt(vm.getName());

    assertThat(instances.get(P, Z, vm.getName()).getStatus()).isEqualTo("TERMINATED");
  }

  @Test
  void list_withLabelFilterAndSmallPages_returnsOnlyMatchingInstances() {
    String fleet = "fl" + SEQ.incrementAndGet();
    for (int i = 0; i < 3; i++) {
      instances.insertCallable().call(insert(t4(name(), "exit 0").toBuilder().putLabels("fleet", fleet).build(), UUID.randomUUID().toString()));
    }
    instances.insertCallable().call(insert(t4(name(), "exit 0"), UUID.randomUUID().toString()));

    List<Instance> found = new java.util.ArrayList<>();
    instances.list(ListInstancesRequest.newBuilder().setProject(P).setZone(Z)
        .setFilter("labels.fleet = \"" + fleet + "\"").setMaxResults(2).build()).iterateAll().forEach(found::add);

    assertThat(found).hasSize(3).allSatisfy(i -> assertThat(i.getLabelsMap()).containsEntry("fleet", fleet));
    assertThat(model.calls("gce.list")).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void operationsWait_andDelete_areServed() {
    Instance vm = t4(name(), "exit 0");
    Operation op = instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    Operation waited = operations.wait(WaitZoneOperationRequest.newBuilder().setProject(P).setZone(Z).setOperation(op.getName()).build());
    Operation deleted = instances.deleteCallable().call(
        com.google.cloud.compute.v1.DeleteInstanceRequest.newBuilder().setProject(P).setZone(Z).setInstance(vm.getName()).build());

    assertThat(waited.getStatus()).isEqualTo(Operation.Status.DONE);
    assertThat(deleted.getOperationType()).isEqualTo("delete");
    assertThatThrownBy(() -> instances.get(P, Z, vm.getName())).isInstanceOf(NotFoundException.class);
    assertThat(model.find(vm.getName())).isEmpty();
    assertThat(model.calls("gce.operations.get")).extracting(c -> c.details().get("method")).contains("POST");
  }

  @Test
  void close_afterServing_leavesNoEmulatorThreadRunning() throws IOException, InterruptedException {
    GceEmulator own = new GceEmulator(CloudModel.create()).start();
    String ep = own.endpoint();
    try (InstancesClient client = InstancesClient.create(InstancesSettings.newBuilder().setEndpoint(ep)
        .setCredentialsProvider(NoCredentialsProvider.create())
        .setTransportChannelProvider(InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(ep).build()).build())) {
      assertThatThrownBy(() -> client.get(P, Z, "missing")).isInstanceOf(NotFoundException.class);
      client.shutdown();
      client.awaitTermination(10, TimeUnit.SECONDS);
    }
    String threadName = "gce-emulator-" + own.port();

    own.close();

    dev.acceldispatch.testkit.Await.noThreadAlive(threadName, java.time.Duration.ofSeconds(5));
  }

  @Test
  void insertAsync_quotaInOperation_failsTheFutureWith403FromTheOperation() {
    emulator.quotaErrorsInOperation(true);
    model.setQuota("us-central1", "PREEMPTIBLE_NVIDIA_T4_GPUS", 0);

    assertThatThrownBy(() -> instances.insertAsync(insert(t4(name(), "exit 0"), UUID.randomUUID().toString())).get())
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void preemptedSpotInstanceWithDelete_disappears() {
    Instance vm = t4(name(), "exit 0").toBuilder()
        .setScheduling(Scheduling.newBuilder().setProvisioningModel("SPOT").setOnHostMaintenance("TERMINATE").setInstanceTerminationAction("DELETE"))
        .build();
    model.planWorkload(vm.getName(), Duration.ofMinutes(10), 0);
    instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));

    model.preempt(vm.getName());

    assertThatThrownBy(() -> instances.get(P, Z, vm.getName())).isInstanceOf(NotFoundException.class);
    assertThat(model.find(vm.getName())).isEmpty();
  }

  @Test
  void slowStockout_showsTheInstanceProvisioningUntilTheOperationFails() {
    emulator.stockoutDelay(Duration.ofMillis(800));
    model.stockout(Z, "nvidia-t4", Duration.ofHours(1));
    Instance vm = t4(name(), "exit 0");

    Operation op = instances.insertCallable().call(insert(vm, UUID.randomUUID().toString()));
    String during = instances.get(P, Z, vm.getName()).getStatus();
    Operation failed = Await.until("the failed operation", Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
      Operation o = operations.get(P, Z, op.getName());
      return o.getStatus() == Operation.Status.DONE ? o : null;
    });

    assertThat(during).isEqualTo("PROVISIONING");
    assertThat(failed.getError().getErrors(0).getCode()).isEqualTo("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS");
    assertThatThrownBy(() -> instances.get(P, Z, vm.getName())).isInstanceOf(NotFoundException.class);
  }
}
