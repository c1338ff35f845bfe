package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.Metadata;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderException.QuotaExceeded.Scope;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.ManualClock;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.failsafe.Failsafe;
import dev.failsafe.RetryPolicy;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the contract does not cover: GCE's own error shapes, idempotency, spot, scripts, labels. */
class GcpGpuProviderTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static EmulatedGce gce;
  private static GcpGpuProvider provider;
  private final List<Map.Entry<GcpGpuProvider, ProvisionedResource>> created = new ArrayList<>();

  @BeforeAll
  static void startEmulator() {
    gce = new EmulatedGce();
    gce.model.setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofMillis(500), 0);
    provider = gce.provider().build();
  }

  @AfterAll
  static void stopEmulator() {
    gce.close();
  }

  @AfterEach
  void cleanUp() {
    gce.model.clearFaults().clearStockouts().clearQuotas();
    gce.emulator.quotaErrorsInOperation(false).stockoutHttpStatus(503).throttleWith429(false).stockoutDelay(Duration.ZERO);
    for (var e : created) {
      e.getKey().release(e.getValue());
    }
    created.clear();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static Offer offer(GcpGpuProvider p, String zone, String machineType) {
    return p.offers().stream()
        .filter(o -> o.zone().equals(zone) && o.machineType().equals(machineType))
        .findFirst()
        .orElseThrow();
  }

  private static Offer t4() {
    return offer(provider, EmulatedGce.ZONE, "n1-standard-4");
  }

  private static ProvisionRequest request(Offer offer, boolean spot, Workload w, Map<String, String> labels) {
    String job = "j" + SEQ.incrementAndGet() + Long.toString(System.nanoTime() % 1_000_000L, 36);
    return request(job, 1, offer, spot, w, labels);
  }

  private static ProvisionRequest request(String job, int attempt, Offer offer, boolean spot, Workload w, Map<String, String> labels) {
    return new ProvisionRequest(
        "ad-" + job + "-a" + attempt, "fleet-x", job, attempt, offer, spot,
        w.withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", Integer.toString(attempt))),
        labels, null);
  }

  private ProvisionedResource provision(GcpGpuProvider p, ProvisionRequest r) {
    ProvisionedResource res = p.provision(r);
    created.add(Map.entry(p, res));
    return res;
  }

  private static ResourceStatus await(GcpGpuProvider p, ProvisionedResource r, ResourceStatus.Phase... phases) {
    List<ResourceStatus.Phase> wanted = List.of(phases);
    return Await.until(r.name() + " in " + wanted, Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      ResourceStatus s = p.status(r);
      return wanted.contains(s.phase()) ? s : null;
    });
  }

  private static ProviderException failure(Runnable call) {
    try {
      call.run();
    } catch (ProviderException e) {
      return e;
    }
    throw new AssertionError("expected a ProviderException");
  }

  // ---- capacity and quota -----------------------------------------------------------------------

  @Test
  void status_stockoutInDoneOperationWithoutHttpStatus_throwsCapacityUnavailable() {
    gce.emulator.stockoutHttpStatus(0);
    gce.model.stockout(EmulatedGce.ZONE, "nvidia-t4", Duration.ofHours(1));
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), Map.of());

    ProvisionedResource res = provision(provider, r);
    ProviderException e = failure(() -> provider.status(res));

    assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
    assertThat(e.cloudCode()).isEqualTo("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS");
    assertThat(e.cloudMessage()).contains("nvidia-tesla-t4 accelerator(s) is currently unavailable in the us-central1-a zone");
    assertThat(e.zone()).contains(EmulatedGce.ZONE);
    assertThat(gce.model.find(r.resourceName())).isEmpty();
  }

  @Test
  void status_stockoutThatShowsTheInstanceFirst_isPendingThenCapacityUnavailable_andReleaseWaitsForTheInsert() {
    gce.emulator.stockoutDelay(Duration.ofMillis(1500));
    gce.model.stockout(EmulatedGce.ZONE, "nvidia-t4", Duration.ofHours(1));
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));

    ResourceStatus whileInserting = provider.status(res);
    ProviderException earlyRelease = failure(() -> provider.release(res));
    ProviderException.CapacityUnavailable end = Await.until("the stockout", Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      try {
        assertThat(provider.status(res).phase()).isIn(ResourceStatus.Phase.PENDING);
        return null;
      } catch (ProviderException.CapacityUnavailable e) {
        return e;
      }
    });

    assertThat(whileInserting.phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    assertThat(whileInserting.detail()).contains("PROVISIONING");
    assertThat(earlyRelease).isInstanceOf(ProviderException.Transient.class);
    assertThat(earlyRelease.cloudCode()).isEqualTo("INSERT_IN_PROGRESS");
    assertThat(end.cloudCode()).startsWith("ZONE_RESOURCE_POOL_EXHAUSTED");
    provider.release(res);
  }

  @Test
  void status_stockoutOfOneGpuPool_leavesOtherPoolsAndZonesAlone() {
    gce.model.stockout(EmulatedGce.ZONE, "nvidia-t4", Duration.ofHours(1));
    ProvisionedResource l4 = provision(provider, request(offer(provider, EmulatedGce.ZONE, "g2-standard-4"), false, Workload.script("exit 0").build(), Map.of()));
    ProvisionedResource otherZone = provision(provider, request(offer(provider, EmulatedGce.OTHER_ZONE, "n1-standard-4"), false, Workload.script("exit 0").build(), Map.of()));

    assertThat(await(provider, l4, ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
    assertThat(await(provider, otherZone, ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
  }

  @Test
  void provision_regionalGpuQuotaSynchronous403_throwsQuotaExceededForTheRegion() {
    gce.model.setQuota("us-central1", "NVIDIA_T4_GPUS", 0);
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), Map.of());
    long insertsBefore = gce.model.calls("gce.insert").size();

    ProviderException e = failure(() -> provision(provider, r));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.REGION);
    assertThat(e.cloudCode()).isEqualTo("quotaExceeded");
    assertThat(e.cloudMessage()).contains("Quota 'NVIDIA_T4_GPUS' exceeded").contains("in region us-central1");
    assertThat(gce.model.calls("gce.insert")).hasSize((int) insertsBefore + 1);
    assertThat(gce.model.find(r.resourceName())).isEmpty();
  }

  @Test
  void provision_gpusAllRegionsSynchronous_throwsQuotaExceededForTheWholeProvider() {
    gce.model.setQuota(CloudModel.GLOBAL, "GPUS_ALL_REGIONS", 0);

    ProviderException e = failure(() -> provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of())));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.PROVIDER);
    assertThat(e.cloudMessage()).contains("GPUS_ALL_REGIONS").contains("globally");
  }

  @Test
  void status_gpusAllRegionsInOperation_throwsQuotaExceededForTheWholeProvider() {
    gce.emulator.quotaErrorsInOperation(true);
    gce.model.setQuota(CloudModel.GLOBAL, "GPUS_ALL_REGIONS", 0);
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));

    ProviderException e = failure(() -> provider.status(res));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.PROVIDER);
    assertThat(e.cloudCode()).isEqualTo("QUOTA_EXCEEDED");
  }

  @Test
  void status_regionalQuotaInOperation_throwsQuotaExceededForTheRegion() {
    gce.emulator.quotaErrorsInOperation(true);
    gce.model.setQuota("us-central1", "NVIDIA_T4_GPUS", 0);
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));

    ProviderException e = failure(() -> provider.status(res));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.REGION);
  }

  @Test
  void provision_spotWithoutPreemptibleQuota_isRefusedWhileOnDemandRuns() {
    gce.model.setQuota("us-central1", "PREEMPTIBLE_NVIDIA_T4_GPUS", 0);

    ProviderException e = failure(() -> provision(provider, request(t4(), true, Workload.script("exit 0").build(), Map.of())));
    ProvisionedResource onDemand = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(e.cloudMessage()).contains("PREEMPTIBLE_NVIDIA_T4_GPUS");
    assertThat(await(provider, onDemand, ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
  }

  // ---- throttling, faults, timeouts -------------------------------------------------------------

  @Test
  void provision_rateLimitExceeded403_isThrottledAndSucceedsWhenRetriedAfterWaiting() {
    gce.model.injectFault("gce.insert", Fault.throttled(Duration.ofSeconds(1)), 1);
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), Map.of());
    List<ProviderException> seen = new ArrayList<>();
    long allocationsBefore = gce.model.allocations();
    // The engine's shape of retry: Throttled is retried after its retry-after; it is neither a
    // capacity nor a quota failure, so nothing blocks the zone.
    RetryPolicy<ProvisionedResource> retry =
        RetryPolicy.<ProvisionedResource>builder()
            .handle(ProviderException.Throttled.class)
            .withDelayFn(c -> ((ProviderException.Throttled) c.getLastException()).retryAfter().orElse(Duration.ofSeconds(1)))
            .onRetry(ev -> seen.add((ProviderException) ev.getLastException()))
            .withMaxRetries(2)
            .build();
    long start = System.nanoTime();

    ProvisionedResource res = Failsafe.with(retry).get(() -> provision(provider, r));

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(seen).singleElement().satisfies(e -> {
      assertThat(e).isInstanceOf(ProviderException.Throttled.class)
          .isNotInstanceOf(ProviderException.CapacityUnavailable.class);
      assertThat(e.cloudCode()).isEqualTo("rateLimitExceeded");
      assertThat(((ProviderException.Throttled) e).retryAfter()).contains(Duration.ofSeconds(1));
    });
    assertThat(res.name()).isEqualTo(r.resourceName());
    assertThat(gce.model.allocations() - allocationsBefore).isEqualTo(1);
  }

  @Test
  void status_http429_isThrottledWithRetryAfter() {
    gce.emulator.throttleWith429(true);
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    gce.model.injectFault("gce.get", Fault.throttled(Duration.ofSeconds(7)), 1);

    ProviderException e = failure(() -> provider.status(res));

    assertThat(e).isInstanceOf(ProviderException.Throttled.class);
    assertThat(((ProviderException.Throttled) e).retryAfter()).contains(Duration.ofSeconds(7));
  }

  @Test
  void provision_overTheMutationQuotaOfTheMinute_isThrottledWithoutCallingTheCloud() {
    ManualClock clock = new ManualClock();
    GcpGpuProvider limited = gce.provider().apiQuotas(new GceApiQuotas(1, 1500, 1500, 1500)).clock(clock).build();
    int insertsBefore = gce.model.calls("gce.insert").size();

    provision(limited, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    ProviderException e = failure(() -> provision(limited, request(t4(), false, Workload.script("exit 0").build(), Map.of())));

    assertThat(e).isInstanceOf(ProviderException.Throttled.class);
    assertThat(e.cloudCode()).isEqualTo("CLIENT_RATE_LIMIT");
    assertThat(((ProviderException.Throttled) e).retryAfter().orElseThrow())
        .isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1));
    assertThat(gce.model.calls("gce.insert")).hasSize(insertsBefore + 1);
    // Deleting is a mutation too: let the next window open so the clean-up can run.
    clock.advance(Duration.ofMinutes(1));
  }

  @Test
  void provision_permissionDenied403_isPermissionDenied() {
    gce.model.injectFault("gce.insert", Fault.of(Fault.Kind.PERMISSION_DENIED), 1);

    ProviderException e = failure(() -> provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of())));

    assertThat(e).isInstanceOf(ProviderException.PermissionDenied.class);
    assertThat(e.cloudCode()).isEqualTo("forbidden");
    assertThat(e.cloudMessage()).contains("compute.instances.create");
  }

  @Test
  void status_internalErrorOrGatewayTimeout_isTransient() {
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    gce.model.injectFault("gce.get", Fault.of(Fault.Kind.INTERNAL), 1);
    gce.model.injectFault("gce.get", Fault.of(Fault.Kind.DEADLINE_EXCEEDED), 1);

    assertThat(failure(() -> provider.status(res))).isInstanceOf(ProviderException.Transient.class);
    assertThat(failure(() -> provider.status(res))).isInstanceOf(ProviderException.Transient.class);
  }

  @Test
  void status_persistentUnavailable_failsAfterOneCallBecauseTheSdkRetriesAreOff() {
    ProvisionedResource res = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    gce.model.injectFault("gce.get", Fault.of(Fault.Kind.UNAVAILABLE), 100);
    int getsBefore = gce.model.calls("gce.get").size();

    ProviderException e = failure(() -> provider.status(res));

    assertThat(e).isInstanceOf(ProviderException.Transient.class);
    assertThat(e.cloudCode()).isEqualTo("backendError");
    assertThat(gce.model.calls("gce.get")).hasSize(getsBefore + 1);
  }

  @Test
  void status_slowerThanTheCallTimeout_failsTransientWithoutWaitingForTheSdkDefault() {
    GcpGpuProvider impatient = gce.provider().callTimeout(Duration.ofMillis(300)).build();
    ProvisionedResource res = provision(impatient, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    gce.model.injectFault("gce.get", Fault.slow(Duration.ofSeconds(2)), 1);
    long start = System.nanoTime();

    ProviderException e = failure(() -> impatient.status(res));

    assertThat(e).isInstanceOf(ProviderException.Transient.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1900));
  }

  // ---- idempotency ------------------------------------------------------------------------------

  @Test
  void provision_afterLostResponse_reusesTheRequestIdAndCreatesOneInstance() {
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), Map.of());
    gce.model.planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    gce.model.injectFault("gce.insert", Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    int insertsBefore = gce.model.calls("gce.insert").size();
    long allocationsBefore = gce.model.allocations();

    ProviderException lost = failure(() -> provision(provider, r));
    ProvisionedResource res = provision(provider, r);

    assertThat(lost).isInstanceOf(ProviderException.Transient.class);
    var inserts = gce.model.calls("gce.insert").subList(insertsBefore, insertsBefore + 2);
    assertThat(inserts).extracting(c -> c.details().get("requestId"))
        .containsOnly(dev.acceldispatch.gcp.internal.RequestIds.stable("gce-insert", EmulatedGce.PROJECT, EmulatedGce.ZONE, r.resourceName()));
    assertThat(UUID.fromString(inserts.get(0).details().get("requestId"))).isNotEqualTo(new UUID(0, 0));
    assertThat(gce.model.allocations() - allocationsBefore).isEqualTo(1);
    assertThat(res.attributes()).containsKey(GcpGpuProvider.ATTR_INSERT_OPERATION);
    assertThat(await(provider, res, ResourceStatus.Phase.RUNNING).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
  }

  @Test
  void provision_instanceCreatedEarlierWithAnotherRequestId_isAdopted() {
    ProvisionRequest r = request(t4(), false, Workload.script("sleep 1").build(), Map.of());
    gce.model.planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    insertDirectly(r.resourceName(), Map.of("accel-dispatch-fleet", "fleet-x"));
    long allocationsBefore = gce.model.allocations();

    ProvisionedResource res = provision(provider, r);

    assertThat(res.name()).isEqualTo(r.resourceName());
    assertThat(gce.model.allocations()).isEqualTo(allocationsBefore);
    assertThat(provider.listOwned("fleet-x")).extracting(ProvisionedResource::name).containsOnlyOnce(r.resourceName());
  }

  @Test
  void provision_nameTakenByAnotherFleetsInstance_isRefusedNotAdopted() {
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), Map.of());
    insertDirectly(r.resourceName(), Map.of("accel-dispatch-fleet", "someone-else"));
    created.add(Map.entry(provider, ProvisionedResource.of(provider.id(), r.resourceName(), EmulatedGce.ZONE)));

    ProviderException e = failure(() -> provider.provision(r));

    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(e.getMessage()).contains("not labelled as fleet fleet-x");
  }

  private static void insertDirectly(String name, Map<String, String> labels) {
    Instance vm = Instance.newBuilder()
        .setName(name)
        .setMachineType("zones/" + EmulatedGce.ZONE + "/machineTypes/g2-standard-4")
        // G2 takes no pd-standard, the type an unset diskType means.
        .addDisks(com.google.cloud.compute.v1.AttachedDisk.newBuilder().setBoot(true).setInitializeParams(
            com.google.cloud.compute.v1.AttachedDiskInitializeParams.newBuilder().setDiskType("pd-balanced")))
        .putAllLabels(labels)
        .setMetadata(Metadata.newBuilder().addItems(Items.newBuilder().setKey("startup-script").setValue("exit 0")))
        .build();
    gce.instances.insertCallable().call(InsertInstanceRequest.newBuilder()
        .setProject(EmulatedGce.PROJECT).setZone(EmulatedGce.ZONE).setRequestId(UUID.randomUUID().toString())
        .setInstanceResource(vm).build());
  }

  // ---- what an instance is made of --------------------------------------------------------------

  @Test
  void provision_spotOffer_insertsSpotTerminateOnMaintenanceWithGuestAcceleratorAndGuestAttributes() {
    ProvisionRequest r = request(t4(), true, Workload.script("exit 0").build(), Map.of());

    provision(provider, r);

    Instance in = gce.emulator.insertedInstance(r.resourceName()).orElseThrow();
    assertThat(in.getScheduling().getProvisioningModel()).isEqualTo("SPOT");
    assertThat(in.getScheduling().getOnHostMaintenance()).isEqualTo("TERMINATE");
    assertThat(in.getScheduling().getInstanceTerminationAction()).isEqualTo("STOP");
    assertThat(in.getScheduling().getAutomaticRestart()).isFalse();
    assertThat(in.getMachineType()).isEqualTo("zones/us-central1-a/machineTypes/n1-standard-4");
    assertThat(in.getGuestAcceleratorsList()).singleElement().satisfies(a -> {
      assertThat(a.getAcceleratorType()).isEqualTo("zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4");
      assertThat(a.getAcceleratorCount()).isEqualTo(1);
    });
    assertThat(in.getMetadata().getItemsList()).extracting(Items::getKey)
        .contains("startup-script", "enable-guest-attributes");
    assertThat(in.getDisks(0).getInitializeParams().getSourceImage()).isEqualTo(GcpGpuProvider.DEFAULT_BOOT_IMAGE);
  }

  @Test
  void provision_h100OnDemand_insertsA3WithBuiltInGpusAndStandardModel() {
    ProvisionRequest r = request(offer(provider, EmulatedGce.ZONE, "a3-highgpu-8g"), false, Workload.script("exit 0").build(), Map.of());

    provision(provider, r);

    Instance in = gce.emulator.insertedInstance(r.resourceName()).orElseThrow();
    assertThat(in.getScheduling().getProvisioningModel()).isEqualTo("STANDARD");
    assertThat(in.getScheduling().getOnHostMaintenance()).isEqualTo("TERMINATE");
    assertThat(in.getGuestAcceleratorsList()).isEmpty();
    assertThat(gce.model.find(r.resourceName()).orElseThrow().request().units()).isEqualTo(8);
    assertThat(gce.model.find(r.resourceName()).orElseThrow().request().pool()).isEqualTo("nvidia-h100-80gb");
  }

  // ---- spot preemption --------------------------------------------------------------------------

  @Test
  void spotPreemption_withStop_reportsPreempted_andTheNextAttemptRuns() {
    String job = "spot" + SEQ.incrementAndGet();
    ProvisionRequest first = request(job, 1, t4(), true, Workload.script("exit 0").build(), Map.of());
    gce.model.planWorkload(first.resourceName(), Duration.ofMinutes(10), 0);
    ProvisionedResource res = provision(provider, first);
    await(provider, res, ResourceStatus.Phase.RUNNING);

    assertThat(gce.model.preempt(first.resourceName())).isTrue();
    ResourceStatus preempted = await(provider, res, ResourceStatus.Phase.PREEMPTED);
    provider.release(res);
    ProvisionRequest second = request(job, 2, t4(), true, Workload.script("exit 0").build(), Map.of());
    ResourceStatus end = await(provider, provision(provider, second), ResourceStatus.Phase.SUCCEEDED, ResourceStatus.Phase.FAILED);

    assertThat(preempted.exitCode()).isNull();
    assertThat(preempted.detail()).contains("TERMINATED");
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
  }

  @Test
  void spotPreemption_withDelete_reportsTheVanishedInstanceAsPreempted() {
    GcpGpuProvider deleting = gce.provider().spotTermination(GcpGpuProvider.SpotTermination.DELETE).build();
    ProvisionRequest r = request(t4(), true, Workload.script("exit 0").build(), Map.of());
    gce.model.planWorkload(r.resourceName(), Duration.ofMinutes(10), 0);
    ProvisionedResource res = provision(deleting, r);
    await(deleting, res, ResourceStatus.Phase.RUNNING);

    gce.model.preempt(r.resourceName());
    ResourceStatus s = await(deleting, res, ResourceStatus.Phase.PREEMPTED);

    assertThat(s.exitCode()).isNull();
    assertThat(gce.emulator.insertedInstance(r.resourceName())).isEmpty();
  }

  // ---- startup script ---------------------------------------------------------------------------

  @Test
  void startupScript_hostileScriptAndEnv_runVerbatimAndReportTheirRealExitCode() {
    String hostile = "$(touch pwned-subst) `touch pwned-tick` it's \"q\" ; touch pwned-semi\n✓ ${HOME}";
    Workload w = Workload.script("printf '%s' \"$HOSTILE\" > seen; exit 7").env("HOSTILE", hostile).build();
    ProvisionRequest r = request(t4(), false, w, Map.of());

    ResourceStatus end = await(provider, provision(provider, r), ResourceStatus.Phase.SUCCEEDED, ResourceStatus.Phase.FAILED);

    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(7);
    ScriptSandbox.Result run = gce.emulator.observedWorkload(r.resourceName()).orElseThrow();
    assertThat(run.file("seen")).isEqualTo(hostile);
    assertThat(run.file("guest-attributes/accel-dispatch~exit-code")).isEqualTo("7");
    assertThat(run.files().keySet()).noneMatch(n -> n.startsWith("pwned"));
  }

  @Test
  void provision_secretWithoutFetcher_isRefusedNamingTheVariableBeforeAnyCall() {
    Workload w = Workload.script("exit 0").secretEnv("HF_TOKEN", Secret.of("hf_very_secret")).build();
    int callsBefore = gce.model.calls().size();

    ProviderException e = failure(() -> provision(provider, request(t4(), false, w, Map.of())));

    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(e.getMessage()).contains("HF_TOKEN").doesNotContain("hf_very_secret");
    assertThat(gce.model.calls()).hasSize(callsBefore);
  }

  @Test
  void deliverableSecretKinds_secretManagerAlways_valuesOnlyWithAFetcher() {
    GcpGpuProvider withStore = gce.provider().secretFetcher(name -> "gcloud secrets versions access latest --secret=" + name).build();
    assertThat(provider.deliverableSecretKinds()).containsExactly(Secret.Kind.GOOGLE_SECRET_MANAGER);
    assertThat(withStore.deliverableSecretKinds()).containsExactlyInAnyOrder(Secret.Kind.GOOGLE_SECRET_MANAGER,
        Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
  }

  @Test
  void provision_secretWithFetcher_putsTheFetcherNotTheValueInMetadata() {
    GcpGpuProvider withStore = gce.provider()
        .secretFetcher(name -> "gcloud secrets versions access latest --secret=" + name)
        .build();
    Workload w = Workload.script("exit 0").secretEnv("HF_TOKEN", Secret.of("hf_very_secret")).build();
    ProvisionRequest r = request(t4(), false, w, Map.of());

    provision(withStore, r);

    String script = gce.emulator.insertedInstance(r.resourceName()).orElseThrow().getMetadata().getItemsList().stream()
        .filter(i -> i.getKey().equals("startup-script")).findFirst().orElseThrow().getValue();
    assertThat(script).contains("gcloud secrets versions access latest --secret='HF_TOKEN'").doesNotContain("hf_very_secret");
  }

  @Test
  void provision_secretManagerReferenceWithoutFetcher_metadataHoldsTheReferenceAndAKeyVaultOneIsRefused() {
    Workload w = Workload.script("exit 0")
        .secretEnv("HF_TOKEN", Secret.googleSecretManager("projects/p/secrets/hf-token/versions/2")).build();
    ProvisionRequest r = request(t4(), false, w, Map.of());

    provision(provider, r);

    String script = gce.emulator.insertedInstance(r.resourceName()).orElseThrow().getMetadata().getItemsList().stream()
        .filter(i -> i.getKey().equals("startup-script")).findFirst().orElseThrow().getValue();
    assertThat(script).contains("gcloud secrets versions access '2' --secret='hf-token' --project='p' --quiet");
    Workload azure = Workload.script("exit 0")
        .secretEnv("K", Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/k")).build();
    ProviderException e = failure(() -> provision(provider, request(t4(), false, azure, Map.of())));
    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(e.getMessage()).contains("Azure Key Vault 'https://ml-vault.vault.azure.net/secrets/k'");
  }

  // ---- labels, listing, offers ------------------------------------------------------------------

  @Test
  void provision_hostileLabels_areSanitisedToGceRulesAndOwnershipStaysReadable() {
    Map<String, String> labels = new HashMap<>();
    labels.put("Team Name", "ML Research!");
    labels.put("9lives", "Ünïcode ✓");
    labels.put("k".repeat(80), "v".repeat(80));
    labels.put(ProvisionRequest.LABEL_FLEET, "forged");
    ProvisionRequest r = request(t4(), false, Workload.script("exit 0").build(), labels);

    provision(provider, r);

    Map<String, String> seen = gce.model.find(r.resourceName()).orElseThrow().labels();
    assertThat(seen)
        .containsEntry("accel-dispatch-fleet", "fleet-x")
        .containsEntry("accel-dispatch-job", r.jobId())
        .containsEntry("accel-dispatch-attempt", "1")
        .containsEntry("team_name", "ml_research_")
        .containsEntry("k9lives", "_n_code__")
        .containsEntry("k".repeat(63), "v".repeat(63));
  }

  @Test
  void listOwned_findsThisFleetInEveryConfiguredZone() {
    ProvisionRequest here = request(t4(), false, Workload.script("sleep 1").build(), Map.of());
    ProvisionRequest there = request(offer(provider, EmulatedGce.OTHER_ZONE, "g2-standard-4"), true, Workload.script("sleep 1").build(), Map.of());
    provision(provider, here);
    provision(provider, there);

    List<ProvisionedResource> owned = provider.listOwned("fleet-x");

    assertThat(owned).extracting(ProvisionedResource::name).contains(here.resourceName(), there.resourceName());
    assertThat(owned).filteredOn(o -> o.name().equals(there.resourceName())).singleElement().satisfies(o -> {
      assertThat(o.zone()).isEqualTo(EmulatedGce.OTHER_ZONE);
      assertThat(o.attributes()).containsEntry(GcpGpuProvider.ATTR_SPOT, "true");
    });
  }

  @Test
  void offers_coverEveryMachineTypeInEveryZoneWithCatalogPrices() {
    assertThat(provider.offers()).hasSize(2 * GpuMachineType.defaults().size());
    Offer h100 = offer(provider, EmulatedGce.ZONE, "a3-highgpu-8g");
    assertThat(h100.shape().toString()).isEqualTo("nvidia-h100-80gb x8");
    assertThat(h100.onDemandHourly().toString()).contains("88.25");
    assertThat(h100.spotHourly()).isNotNull();
    assertThat(offer(provider, EmulatedGce.OTHER_ZONE, "g2-standard-4").onDemandHourly().toString()).contains("0.74");
    assertThat(provider.limits().callsPerSecond()).isPositive().isLessThanOrEqualTo(25);
  }

  @Test
  void builder_withoutZones_isRefusedNamingTheField() {
    assertThatThrownBy(() -> GcpGpuProvider.builder(gce.instances, gce.zoneOperations).project("p").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("zones");
  }

  @Test
  void builder_missingZoneCatalogOrEgress_isRefusedNamingTheField() {
    assertThatThrownBy(() -> GcpGpuProvider.builder(gce.instances, gce.zoneOperations).project("p").zones(EmulatedGce.ZONE)
        .egress(NetworkEgress.CLOUD_NAT).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("zoneCatalog");
    assertThatThrownBy(() -> GcpGpuProvider.builder(gce.instances, gce.zoneOperations).zoneCatalog(gce.machineTypes, gce.acceleratorTypes)
        .project("p").zones(EmulatedGce.ZONE).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("egress").hasMessageContaining("CLOUD_NAT");
  }

  @Test
  void build_zoneThatDoesNotExist_isRefusedNamingTheZone() {
    assertThatThrownBy(() -> gce.provider().zones("us-nowhere9-z").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("us-nowhere9-z");
  }

  // ---- regressions of issue 14 (each fails on the code before it) ---------------------------------

  /** Item 6: the boot disk had no diskType, so pd-standard, which G2 and A3 refuse: the L4 and H100 offers never started. */
  @Test
  void provision_l4AndH100_bootFromADiskTypeTheirSeriesSupports() {
    for (String machineType : List.of("g2-standard-4", "a3-highgpu-8g")) {
      ProvisionRequest r = request(offer(provider, EmulatedGce.ZONE, machineType), false, Workload.script("exit 0").build(), Map.of());
      ResourceStatus end = await(provider, provision(provider, r), ResourceStatus.Phase.SUCCEEDED, ResourceStatus.Phase.FAILED);
      assertThat(end.phase()).as(machineType + ": " + end.detail()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
      Instance sent = gce.emulator.insertedInstance(r.resourceName()).orElse(null);
      if (sent != null) {
        assertThat(sent.getDisks(0).getInitializeParams().getDiskType()).endsWith("/diskTypes/pd-balanced");
      }
    }
  }

  @Test
  void provision_bootDiskTypeOverriddenForASeries_isSent() {
    GcpGpuProvider hyper = gce.provider().bootDiskType("a3", "hyperdisk-balanced").build();
    ProvisionRequest r = request(offer(hyper, EmulatedGce.ZONE, "a3-highgpu-8g"), false, Workload.script("sleep 1").build(), Map.of());
    gce.model.planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    provision(hyper, r);
    Instance sent = gce.emulator.insertedInstance(r.resourceName()).orElseThrow();
    assertThat(sent.getDisks(0).getInitializeParams().getDiskType()).isEqualTo("zones/" + EmulatedGce.ZONE + "/diskTypes/hyperdisk-balanced");
    assertThat(sent.getNetworkInterfaces(0).getNicType()).as("A3 needs gVNIC").isEqualTo("GVNIC");
  }

  /** Item 7: every machine type was offered in every zone; a job wasted an attempt per zone without its series. */
  @Test
  void offers_onlyWhereTheZoneListsTheMachineTypeAndItsGpu() {
    gce.emulator.zone("us-east1-b", java.util.Set.of("n1"), java.util.Set.of());
    GcpGpuProvider p = gce.provider().zones(EmulatedGce.ZONE, "us-central1-f", "us-east1-b").build();
    java.util.Map<String, List<String>> byZone = new java.util.TreeMap<>();
    p.offers().forEach(o -> byZone.computeIfAbsent(o.zone(), z -> new java.util.ArrayList<>()).add(o.machineType()));
    assertThat(byZone.get(EmulatedGce.ZONE)).contains("a3-highgpu-8g", "g2-standard-4", "n1-standard-4");
    assertThat(byZone.get("us-central1-f")).contains("a2-highgpu-1g", "n1-standard-4").doesNotContain("a3-highgpu-8g", "g2-standard-4");
    // N1 exists there, but no T4: no T4 offer.
    assertThat(byZone).doesNotContainKey("us-east1-b");
  }

  /** Item 5: an insert operation DONE with UNSUPPORTED_OPERATION or a permission error made status() throw what its contract does not allow. */
  @Test
  void status_insertOperationEndsInUnsupportedOperationOrPermissionError_isATerminalFailureWithTheCloudsCode() {
    gce.emulator.failNextInsert("UNSUPPORTED_OPERATION", "The requested disk type is not supported for the requested machine type.", 400);
    ProvisionedResource unsupported = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    ResourceStatus a = provider.status(unsupported);
    assertThat(a.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(a.exitCode()).isEqualTo(-1);
    assertThat(a.attributes()).containsEntry("cloudCode", "UNSUPPORTED_OPERATION");

    gce.emulator.failNextInsert("PERMISSIONS_ERROR", "Required 'compute.subnetworks.use' permission", 403);
    ProvisionedResource denied = provision(provider, request(t4(), false, Workload.script("exit 0").build(), Map.of()));
    ResourceStatus b = provider.status(denied);
    assertThat(b.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(b.attributes()).containsEntry("cloudCode", "PERMISSIONS_ERROR");
  }

  /** Item 12: VMs without an external IP behind Private Google Access only cannot pull a Docker Hub image. */
  @Test
  void provision_privateGoogleAccessOnlyAndADockerHubImage_isRefusedBeforeAnyCall() {
    GcpGpuProvider pga = gce.provider().egress(NetworkEgress.PRIVATE_GOOGLE_ACCESS).build();
    long inserts = gce.model.calls("gce.insert").size();
    ProviderException e = failure(() -> pga.provision(request(offer(pga, EmulatedGce.ZONE, "n1-standard-4"), false,
        Workload.container("nvidia/cuda:12.4.0-base-ubuntu22.04", "nvidia-smi").build(), Map.of())));
    assertThat(e.cloudCode()).isEqualTo("EGRESS_UNAVAILABLE");
    assertThat(gce.model.calls("gce.insert")).hasSize((int) inserts);
  }
}
