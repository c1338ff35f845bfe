package dev.acceldispatch.gcp.tpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.Node;
import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The TPU provider's own behaviour beyond the contract, through the real client and the emulator. */
class GcpTpuProviderTest {
  private static final String WEST = "us-west4-a";
  private static final String CENTRAL = "us-central1-a";
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final Duration EVERY = Duration.ofMillis(100);

  private static TpuEmulator emulator;
  private static TpuClient client;
  private static GcpTpuProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeAll
  static void startEmulator() throws IOException {
    emulator = TpuEmulator.create().start();
    client = TpuClient.create(emulator.clientSettings());
    provider = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST, CENTRAL)
        .callTimeout(Duration.ofSeconds(5)).build();
    defaults();
  }

  @AfterAll
  static void stopEmulator() throws InterruptedException {
    provider.close();
    client.close();
    client.awaitTermination(10, TimeUnit.SECONDS);
    emulator.close();
  }

  @AfterEach
  void cleanUp() {
    for (ProvisionedResource r : created) {
      provider.release(r);
    }
    created.clear();
    defaults();
  }

  private static void defaults() {
    emulator.queueWhenNoCapacity(false);
    emulator.model().clearFaults().clearQuotas().clearStockouts()
        .setProvisioningTime(Duration.ofMillis(300)).setDefaultWorkload(Duration.ofMillis(500), 0);
  }

  // ---- state mapping ------------------------------------------------------------------------------

  @Test
  void status_queuedResourceAcceptedThenProvisioning_isPending() {
    emulator.model().setProvisioningTime(Duration.ofSeconds(30));
    ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    ResourceStatus s = provider.status(res);
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    assertThat(s.detail()).containsAnyOf("CREATING", "ACCEPTED", "PROVISIONING");
  }

  @Test
  void status_activeWithReadyNode_isRunning() {
    ProvisionRequest r = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ResourceStatus s = await(provision(r), ResourceStatus.Phase.RUNNING);
    assertThat(s.detail()).contains("ACTIVE").contains("READY").contains("1/1 workers");
  }

  @Test
  void status_exitCodeInGuestAttributes_endsTheAttemptWithThatCode() {
    ProvisionRequest r = request(offer(WEST, 4), false, Workload.script("exit 7").build());
    ResourceStatus s = await(provision(r), ResourceStatus.Phase.FAILED);
    assertThat(s.exitCode()).isEqualTo(7);
    ScriptSandbox.Result run = emulator.observedWorkload(r.resourceName()).orElseThrow();
    assertThat(run.file("guest-attributes/accel-dispatch/exit-code")).isEqualTo("7");
  }

  @Test
  void status_spotSuspendedByService_isPreempted() {
    ProvisionRequest r = request(offer(CENTRAL, 8), true, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    await(res, ResourceStatus.Phase.RUNNING);
    assertThat(emulator.model().preempt(r.resourceName())).isTrue();
    ResourceStatus s = provider.status(res);
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(s.detail()).containsAnyOf("SUSPENDING", "SUSPENDED").contains("service");
    assertThat(s.exitCode()).isNull();
  }

  @Test
  void status_onDemandNodeTerminated_isPreempted() {
    ProvisionRequest r = request(offer(WEST, 1), false, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    await(res, ResourceStatus.Phase.RUNNING);
    emulator.model().preempt(r.resourceName());
    ResourceStatus s = provider.status(res);
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(s.detail()).contains("TERMINATED");
  }

  @Test
  void status_failedForCapacity_throwsCapacityUnavailableWithTheCloudsWords() {
    emulator.model().stockout(WEST, TpuEmulator.POOL, Duration.ofHours(1));
    ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    ProviderException.CapacityUnavailable e = (ProviderException.CapacityUnavailable) statusError(res);
    assertThat(e.cloudCode()).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(e.cloudMessage()).contains("no more capacity in the zone \"us-west4-a\"");
    assertThat(e.zone()).contains(WEST);
  }

  @Test
  void status_failedForZoneQuota_throwsQuotaExceededScopedToTheZone() {
    emulator.model().setQuota(WEST, TpuEmulator.ON_DEMAND_QUOTA, 4);
    ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    ProviderException.QuotaExceeded e = (ProviderException.QuotaExceeded) statusError(res);
    assertThat(e.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.ZONE);
    assertThat(e.cloudMessage()).contains("Quota limit '" + TpuEmulator.ON_DEMAND_QUOTA + "' has been exceeded");
  }

  @Test
  void status_failedForSpotQuotaInRegion_throwsQuotaExceededScopedToTheRegion() {
    emulator.model().setQuota("us-central1", TpuEmulator.SPOT_QUOTA, 0);
    ProvisionedResource spot = provision(request(offer(CENTRAL, 4), true, Workload.script("exit 0").build()));
    assertThat(statusError(spot))
        .isInstanceOfSatisfying(ProviderException.QuotaExceeded.class,
            e -> assertThat(e.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.REGION));
    // On-demand draws on another quota, so it is unaffected.
    ProvisionedResource onDemand = provision(request(offer(CENTRAL, 4), false, Workload.script("exit 0").build()));
    assertThat(await(onDemand, ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
  }

  @Test
  void status_waitingForResources_isPendingUntilCapacityFrees() {
    emulator.queueWhenNoCapacity(true);
    Instant now = emulator.model().clock().instant();
    emulator.model().stockoutWindow(WEST, TpuEmulator.POOL, now, now.plusMillis(600));
    ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    ResourceStatus waiting = Await.until("waiting", PATIENCE, Duration.ofMillis(20), () -> {
      ResourceStatus st = provider.status(res);
      return st.detail().contains("CREATING") ? null : st;
    });
    assertThat(waiting.phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    assertThat(waiting.detail()).contains("WAITING_FOR_RESOURCES");
    assertThat(await(res, ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
  }

  @Test
  void status_startDeadlinePassesWhileQueued_throwsCapacityUnavailable() {
    emulator.queueWhenNoCapacity(true);
    emulator.model().stockout(WEST, TpuEmulator.POOL, Duration.ofHours(1));
    ProvisionRequest base = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    ProvisionRequest r = new ProvisionRequest(base.resourceName(), base.fleetId(), base.jobId(), base.attempt(),
        base.offer(), false, base.workload(), base.labels(), Instant.now().plusMillis(300));
    ProvisionedResource res = provision(r);
    ProviderException e = Await.until("the deadline failure", PATIENCE, EVERY, () -> {
      try {
        assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.PENDING);
        return null;
      } catch (ProviderException x) {
        return x;
      }
    });
    assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
    assertThat(e.cloudMessage()).contains("valid_until");
  }

  @Test
  void status_unknownName_isGone() {
    ResourceStatus s = provider.status(ProvisionedResource.of(provider.id(), "ad-nothing-here-a1", WEST));
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void status_multiHostSlice_runsOnlyWithEveryWorker_andALostWorkerPreemptsTheSlice() {
    emulator.model().setProvisioningTime(Duration.ofSeconds(1));
    ProvisionRequest r = request(offer(WEST, 32), false, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.PENDING);
    ResourceStatus running = await(res, ResourceStatus.Phase.RUNNING);
    assertThat(running.detail()).contains("8/8 workers");
    assertThat(emulator.loseWorker(r.resourceName(), 2)).isTrue();
    ResourceStatus lost = provider.status(res);
    assertThat(lost.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(lost.detail()).contains("REPAIRING").contains("7/8 workers");
  }

  @Test
  void status_multiHostSlice_endsWhenEveryWorkerReported() {
    ProvisionRequest r = request(offer(WEST, 16), false, Workload.script("exit 0").build());
    ResourceStatus end = await(provision(r), ResourceStatus.Phase.SUCCEEDED);
    assertThat(end.detail()).contains("4/4 workers");
  }

  // ---- regressions of issue 14 (each fails on the code before it) ---------------------------------

  /** Item 1: the provider took v5litepod-16 for 2 workers (one per 8 chips); it has 4, and losing one ends the slice. */
  @Test
  void status_v5litepod16LosesOneOfItsFourWorkers_isPreempted() {
    ProvisionRequest r = request(offer(WEST, 16), false, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    assertThat(await(res, ResourceStatus.Phase.RUNNING).detail()).contains("4/4 workers");
    assertThat(emulator.loseWorker(r.resourceName(), 3)).isTrue();
    ResourceStatus lost = provider.status(res);
    assertThat(lost.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(lost.detail()).contains("3/4 workers");
  }

  /** Item 2: FAILED after valid_until with DEADLINE_EXCEEDED (or nothing) was a workload failure with exit -1. */
  @Test
  void status_validUntilPassesWithDeadlineExceededOrEmptyPayload_isCapacityUnavailable() {
    emulator.queueWhenNoCapacity(true);
    emulator.model().stockout(WEST, TpuEmulator.POOL, Duration.ofHours(1));
    for (TpuEmulator.ExpiryPayload payload : List.of(TpuEmulator.ExpiryPayload.DEADLINE_EXCEEDED, TpuEmulator.ExpiryPayload.NONE)) {
      emulator.expiryPayload(payload);
      try {
        ProvisionRequest base = request(offer(WEST, 8), false, Workload.script("exit 0").build());
        ProvisionRequest r = new ProvisionRequest(base.resourceName(), base.fleetId(), base.jobId(), base.attempt(),
            base.offer(), false, base.workload(), base.labels(), Instant.now().plusMillis(300));
        ProviderException e = statusError(provision(r));
        assertThat(e).as("payload %s", payload).isInstanceOf(ProviderException.CapacityUnavailable.class);
        assertThat(e.cloudCode()).isEqualTo("QUEUED_RESOURCE_EXPIRED");
      } finally {
        emulator.expiryPayload(TpuEmulator.ExpiryPayload.DEADLINE_EXCEEDED);
      }
    }
  }

  /** Item 3: a create that failed later and left no queued resource was read as lost (a preemption). */
  @Test
  void status_createFailsLaterAndTheQueuedResourceIsGone_reportsTheOperationsError() {
    emulator.dropNextCreate(com.google.rpc.Code.PERMISSION_DENIED,
        "Permission 'iam.serviceAccounts.actAs' denied on service account tpu@p.iam.gserviceaccount.com");
    ProvisionedResource denied = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    ResourceStatus end = Await.until("terminal", PATIENCE, Duration.ofMillis(20), () -> {
      ResourceStatus st = provider.status(denied);
      return st.phase().isTerminal() ? st : null;
    });
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.attributes()).containsEntry("cloudCode", "PERMISSION_DENIED");
    assertThat(end.detail()).contains("iam.serviceAccounts.actAs");

    emulator.dropNextCreate(com.google.rpc.Code.RESOURCE_EXHAUSTED, "There is no more capacity in the zone \"us-west4-a\"");
    ProvisionedResource stockout = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    assertThat(statusError(stockout)).isInstanceOf(ProviderException.CapacityUnavailable.class);
  }

  /** Item 5: FAILED with INVALID_ARGUMENT or PERMISSION_DENIED made status() throw what its contract does not allow. */
  @Test
  void status_failedWithInvalidArgumentOrPermissionDenied_isATerminalFailureWithTheCloudsCode() {
    for (com.google.rpc.Code code : List.of(com.google.rpc.Code.INVALID_ARGUMENT, com.google.rpc.Code.PERMISSION_DENIED)) {
      emulator.failNextCreate(code, "late problem " + code);
      ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
      ResourceStatus end = await(res, ResourceStatus.Phase.FAILED);
      assertThat(end.exitCode()).isEqualTo(-1);
      assertThat(end.attributes()).containsEntry("cloudCode", code.name()).containsEntry("cloudMessage", "late problem " + code);
    }
  }

  /** Item 12: nodes without an external IP and a subnet with only Private Google Access cannot pull a Docker Hub image. */
  @Test
  void provision_privateGoogleAccessOnlyAndADockerHubImage_isRefusedBeforeAnyCall() {
    GcpTpuProvider pga = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.PRIVATE_GOOGLE_ACCESS)
        .zones(WEST).build();
    int creates = emulator.createRequests().size();
    ProviderException e = catchThrowableOfType(ProviderException.InvalidRequest.class, () -> pga.provision(
        request(offer(WEST, 8), false, Workload.container("docker.io/library/python:3.12", "python").build())));
    assertThat(e.cloudCode()).isEqualTo("EGRESS_UNAVAILABLE");
    assertThat(e.cloudMessage()).contains("docker.io/library/python:3.12").contains("CLOUD_NAT");
    assertThat(emulator.createRequests()).hasSize(creates);
    ProvisionedResource ok = provision(pga, request(offer(WEST, 8), false,
        Workload.container("us-docker.pkg.dev/p/r/train:1", "train").build()));
    assertThat(ok.name()).isNotBlank();
  }

  @Test
  void build_noExternalIpAndNoEgress_isRefusedNamingTheField() {
    assertThatThrownBy(() -> GcpTpuProvider.builder(client).project("p").zones(WEST).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("egress").hasMessageContaining("CLOUD_NAT");
    assertThat(GcpTpuProvider.builder(client).project("p").zones(WEST).externalIp(true).build().offers()).isNotEmpty();
  }

  // ---- failover and recovery (provider level: the engine's loop, played by the test) ---------------

  @Test
  void provision_stockoutInOneZone_failsOverToAnother() {
    emulator.model().stockout(WEST, TpuEmulator.POOL, Duration.ofHours(1));
    Workload w = Workload.script("exit 0").build();
    ProvisionRequest first = request(offer(WEST, 8), false, w);
    ProvisionedResource res = provision(first);
    assertThat(statusError(res)).isInstanceOf(ProviderException.CapacityUnavailable.class);
    provider.release(res);
    ProvisionRequest second = retry(first, offer(CENTRAL, 8), false);
    ResourceStatus end = await(provision(second), ResourceStatus.Phase.SUCCEEDED);
    assertThat(end.exitCode()).isZero();
    assertThat(emulator.model().find(second.resourceName()).orElseThrow().request().zone()).isEqualTo(CENTRAL);
  }

  @Test
  void provision_spotPreemptedMidRun_nextAttemptRunsElsewhereToTheEnd() {
    Workload w = Workload.script("exit 0").build();
    ProvisionRequest first = request(offer(WEST, 8), true, w);
    emulator.model().planWorkload(first.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(first);
    await(res, ResourceStatus.Phase.RUNNING);
    emulator.model().preempt(first.resourceName());
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    provider.release(res);
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    ProvisionRequest second = retry(first, offer(CENTRAL, 8), true);
    assertThat(await(provision(second), ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
  }

  @Test
  void provision_quotaExhausted_isQuotaExceededBeforeAnythingRuns() {
    emulator.model().setQuota(CloudModel.GLOBAL, CloudModel.ANY, 0);
    ProvisionRequest r = request(offer(CENTRAL, 1), false, Workload.script("exit 0").build());
    ProvisionedResource res = provision(r);
    assertThat(statusError(res))
        .isInstanceOfSatisfying(ProviderException.QuotaExceeded.class,
            e -> assertThat(e.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.PROVIDER));
    assertThat(emulator.model().find(r.resourceName())).isEmpty();
  }

  @Test
  void provision_lostCreateResponseThenRetry_sendsTheSameRequestIdAndCreatesOneQueuedResource() {
    ProvisionRequest r = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    long before = emulator.model().allocations();
    emulator.model().injectFault(TpuEmulator.OP_CREATE, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    assertThatThrownBy(() -> provider.provision(r))
        .isInstanceOfSatisfying(ProviderException.Transient.class, e -> assertThat(e.cloudCode()).isEqualTo("UNAVAILABLE"));
    ProvisionedResource res = provision(r);
    assertThat(res.name()).isEqualTo(r.resourceName());
    List<String> ids = emulator.createRequests().stream()
        .filter(c -> c.getQueuedResourceId().equals(r.resourceName()))
        .map(CreateQueuedResourceRequest::getRequestId).toList();
    assertThat(ids).hasSize(2).doesNotContain("");
    assertThat(ids.get(1)).isEqualTo(ids.get(0));
    assertThat(emulator.model().allocations() - before).isEqualTo(1);
    assertThat(provider.listOwned("tpu-test")).filteredOn(x -> x.name().equals(r.resourceName())).hasSize(1);
  }

  @Test
  void provision_nameCreatedByAnotherRequest_isAdoptedNotDuplicated() {
    ProvisionRequest template = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    provision(template);
    ProvisionRequest r = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    // Someone (a crashed earlier process, say) created the name with a request id we never sent.
    CreateQueuedResourceRequest sent = lastCreate(template.resourceName());
    var spec = sent.getQueuedResource().getTpu().getNodeSpec(0).toBuilder().setNodeId(r.resourceName());
    client.createQueuedResourceCallable().call(sent.toBuilder()
        .setQueuedResourceId(r.resourceName()).setRequestId("4a1f7c55-0000-4000-8000-000000000001")
        .setQueuedResource(sent.getQueuedResource().toBuilder().setTpu(
            sent.getQueuedResource().getTpu().toBuilder().setNodeSpec(0, spec)))
        .build());
    long before = emulator.model().allocations();
    ProvisionedResource adopted = provision(r);
    assertThat(adopted.name()).isEqualTo(r.resourceName());
    assertThat(emulator.model().allocations()).isEqualTo(before);
    assertThat(provider.listOwned("tpu-test")).extracting(ProvisionedResource::name).containsOnlyOnce(r.resourceName());
  }

  @Test
  void release_twiceAndUnknown_succeedsWithForce() {
    ProvisionRequest r = request(offer(WEST, 8), false, Workload.script("exit 0").build());
    emulator.model().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    await(res, ResourceStatus.Phase.RUNNING);
    provider.release(res);
    assertThatCode(() -> provider.release(res)).doesNotThrowAnyException();
    assertThatCode(() -> provider.release(ProvisionedResource.of(provider.id(), "ad-never-a1", CENTRAL))).doesNotThrowAnyException();
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    assertThat(emulator.model().find(r.resourceName())).isEmpty();
    assertThat(emulator.deleteRequests()).allMatch(d -> d.getForce());
  }

  @Test
  void release_lostDeleteResponse_retrySucceeds() {
    ProvisionedResource res = provision(request(offer(WEST, 1), false, Workload.script("exit 0").build()));
    emulator.model().injectFault(TpuEmulator.OP_DELETE, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    assertThatThrownBy(() -> provider.release(res)).isInstanceOf(ProviderException.Transient.class);
    assertThatCode(() -> provider.release(res)).doesNotThrowAnyException();
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  // ---- what is sent --------------------------------------------------------------------------------

  @Test
  void provision_spotOfferWithDeadline_sendsTierPolicyAcceleratorRuntimeAndScript() {
    Instant deadline = Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    ProvisionRequest base = request(offer(CENTRAL, 64), true, Workload.container("img:1", "train").build());
    ProvisionRequest r = new ProvisionRequest(base.resourceName(), base.fleetId(), base.jobId(), base.attempt(),
        base.offer(), true, base.workload(), base.labels(), deadline);
    provision(r);
    CreateQueuedResourceRequest sent = lastCreate(r.resourceName());
    assertThat(sent.getParent()).isEqualTo("projects/test-project/locations/" + CENTRAL);
    assertThat(sent.getQueuedResource().hasSpot()).isTrue();
    assertThat(sent.getQueuedResource().getQueueingPolicy().getValidUntilTime().getSeconds()).isEqualTo(deadline.getEpochSecond());
    var spec = sent.getQueuedResource().getTpu().getNodeSpec(0);
    assertThat(spec.getNodeId()).isEqualTo(r.resourceName());
    Node node = spec.getNode();
    assertThat(node.getAcceleratorType()).isEqualTo("v5litepod-64");
    assertThat(node.getRuntimeVersion()).isEqualTo(GcpTpuProvider.DEFAULT_RUNTIME_VERSION);
    // Regression (issue 14, item 4): spot went both into the tier and the node's scheduling config.
    assertThat(node.hasSchedulingConfig()).as("spot is said once, in the queued resource's tier").isFalse();
    assertThat(node.getNetworkConfig().getEnableExternalIps()).isFalse();
    assertThat(node.getMetadataMap()).containsEntry("enable-guest-attributes", "TRUE");
    assertThat(node.getMetadataMap().get("startup-script"))
        .contains("docker run --rm '--privileged' '--net=host'")
        .contains("'img:1' 'train'")
        .contains("guest-attributes/accel-dispatch/exit-code");
  }

  @Test
  void provision_onDemandWithoutDeadline_sendsNoTierAndNoPolicy() {
    ProvisionRequest r = request(offer(WEST, 4), false, Workload.script("exit 0").build());
    provision(r);
    CreateQueuedResourceRequest sent = lastCreate(r.resourceName());
    assertThat(sent.getQueuedResource().hasSpot()).isFalse();
    assertThat(sent.getQueuedResource().hasGuaranteed()).isFalse();
    assertThat(sent.getQueuedResource().hasQueueingPolicy()).isFalse();
  }

  @Test
  void provision_hostileLabels_areMadeValidForGcpAndKeepOwnership() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("Team Name!", "Ünïcødé / with spaces and \"quotes\" and a tail longer than sixty-three characters ......");
    labels.put("123-starts-with-digit", "UPPER");
    labels.put("$(touch x)", "`y`");
    labels.put("accel-dispatch-job", "spoofed");
    labels.put("", "empty key");
    ProvisionRequest base = request(offer(WEST, 1), false, Workload.script("exit 0").build());
    ProvisionRequest r = new ProvisionRequest(base.resourceName(), base.fleetId(), base.jobId(), base.attempt(),
        base.offer(), false, base.workload(), labels, null);
    provision(r);
    Map<String, String> seen = emulator.model().find(r.resourceName()).orElseThrow().labels();
    assertThat(seen).containsEntry("accel-dispatch-fleet", "tpu-test")
        .containsEntry("accel-dispatch-job", r.jobId())
        .containsEntry("accel-dispatch-attempt", "1");
    seen.forEach((k, v) -> {
      assertThat(k).matches("[a-z][a-z0-9_-]{0,62}");
      assertThat(v).matches("[a-z0-9_-]{0,63}");
    });
    assertThat(seen).containsKey("team_name_").containsEntry("k123-starts-with-digit", "upper");
  }

  @Test
  void provision_hostileScriptWorkload_reachesTheShellByteForByte() {
    String hostile = "it's \"q\" $(touch pwned-a) `touch pwned-b` ; touch pwned-c\nline two ünïcødé ✓ 日本 $HOME \\";
    Workload w = Workload.script("printf '%s' \"$HOSTILE\" > hostile.out").env("HOSTILE", hostile).build();
    ProvisionRequest r = request(offer(WEST, 1), false, w);
    assertThat(await(provision(r), ResourceStatus.Phase.SUCCEEDED).exitCode()).isZero();
    ScriptSandbox.Result run = emulator.observedWorkload(r.resourceName()).orElseThrow();
    assertThat(run.file("hostile.out")).isEqualTo(hostile);
    assertThat(run.files().keySet()).noneMatch(n -> n.startsWith("pwned"));
  }

  @Test
  void deliverableSecretKinds_secretManagerAlways_valuesOnlyWithAFetcher() {
    GcpTpuProvider withSecrets = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST)
        .secretFetcher(name -> "gcloud secrets versions access latest --secret=" + name).build();
    assertThat(provider.deliverableSecretKinds()).containsExactly(Secret.Kind.GOOGLE_SECRET_MANAGER);
    assertThat(withSecrets.deliverableSecretKinds()).containsExactlyInAnyOrder(Secret.Kind.GOOGLE_SECRET_MANAGER,
        Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
  }

  @Test
  void provision_secretWithFetcher_fetchesOnTheNodeAndNeverSendsTheValue() {
    GcpTpuProvider withSecrets = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST)
        .secretFetcher(name -> "gcloud secrets versions access latest --secret=" + name).build();
    Workload w = Workload.script("exit 0").secretEnv("API_TOKEN", Secret.of("s3cr3t-value")).build();
    ProvisionRequest r = request(withSecrets.offers().get(0), false, w);
    created.add(withSecrets.provision(r));
    String script = lastCreate(r.resourceName()).getQueuedResource().getTpu().getNodeSpec(0).getNode()
        .getMetadataOrThrow("startup-script");
    assertThat(script).contains("gcloud secrets versions access latest --secret='API_TOKEN'").doesNotContain("s3cr3t-value");
  }

  @Test
  void provision_secretManagerReferenceWithoutFetcher_nodeResolvesTheReference() {
    Workload w = Workload.script("exit 0")
        .secretEnv("API_TOKEN", Secret.googleSecretManager("projects/p/secrets/api-token")).build();
    ProvisionRequest r = request(provider.offers().get(0), false, w);
    created.add(provider.provision(r));
    String script = lastCreate(r.resourceName()).getQueuedResource().getTpu().getNodeSpec(0).getNode()
        .getMetadataOrThrow("startup-script");
    assertThat(script).contains("gcloud secrets versions access 'latest' --secret='api-token' --project='p' --quiet");
  }

  @Test
  void provision_offerOfAnotherZone_isInvalidRequest() {
    Offer foreign = Offer.of(provider.id(), "europe-west4", "europe-west4-a", dev.acceldispatch.Shapes.tpuV5e(8), "v5litepod-8",
        Money.usd("1"), null);
    assertThatThrownBy(() -> provider.provision(request(foreign, false, Workload.script("exit 0").build())))
        .isInstanceOf(ProviderException.InvalidRequest.class).hasMessageContaining("europe-west4-a");
  }

  // ---- errors ----------------------------------------------------------------------------------------

  @Test
  void provision_permissionDenied_isPermissionDenied() {
    emulator.model().injectFault(TpuEmulator.OP_CREATE, Fault.of(Fault.Kind.PERMISSION_DENIED), 1);
    ProviderException e = catchThrowableOfType(ProviderException.class,
        () -> provider.provision(request(offer(WEST, 8), false, Workload.script("exit 0").build())));
    assertThat(e).isInstanceOf(ProviderException.PermissionDenied.class);
    assertThat(e.cloudCode()).isEqualTo("PERMISSION_DENIED");
    assertThat(e.cloudMessage()).contains("tpu.queuedResources.create");
  }

  @Test
  void status_throttled_isThrottledWithTheRetryDelay() {
    ProvisionedResource res = provision(request(offer(WEST, 8), false, Workload.script("exit 0").build()));
    emulator.model().injectFault(TpuEmulator.OP_GET, Fault.throttled(Duration.ofSeconds(7)), 1);
    ProviderException.Throttled e = catchThrowableOfType(ProviderException.Throttled.class, () -> provider.status(res));
    assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
    assertThat(e.cloudCode()).isEqualTo("RESOURCE_EXHAUSTED");
  }

  @Test
  void listOwned_deadlineExceededAndInternal_areTransient() {
    emulator.model().injectFault(TpuEmulator.OP_LIST, Fault.of(Fault.Kind.DEADLINE_EXCEEDED), 1);
    assertThatThrownBy(() -> provider.listOwned("tpu-test")).isInstanceOf(ProviderException.Transient.class);
    emulator.model().injectFault(TpuEmulator.OP_LIST, Fault.of(Fault.Kind.INTERNAL), 1);
    assertThatThrownBy(() -> provider.listOwned("tpu-test")).isInstanceOf(ProviderException.Transient.class);
  }

  @Test
  void status_slowerThanTheCallTimeout_isTransientWithinTheTimeout() {
    GcpTpuProvider impatient = GcpTpuProvider.builder(client).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST)
        .callTimeout(Duration.ofMillis(300)).build();
    emulator.model().injectFault(TpuEmulator.OP_GET, Fault.slow(Duration.ofSeconds(2)), 1);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> impatient.status(ProvisionedResource.of(impatient.id(), "ad-slow-a1", WEST)))
        .isInstanceOfSatisfying(ProviderException.Transient.class, e -> assertThat(e.cloudCode()).isEqualTo("DEADLINE_EXCEEDED"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1800));
  }

  // ---- offers and limits ------------------------------------------------------------------------------

  @Test
  void offers_everySliceInEveryZone_pricedPerChipFromTheCatalog() {
    assertThat(provider.offers()).hasSize(16);
    Offer west8 = offer(WEST, 8);
    assertThat(west8.region()).isEqualTo("us-west4");
    assertThat(west8.onDemandHourly()).isEqualTo(Money.usd("9.60"));
    assertThat(west8.spotHourly()).isEqualTo(Money.usd("3.752"));
    assertThat(offer(CENTRAL, 256).onDemandHourly()).isEqualTo(Money.usd("307.20"));
    assertThat(provider.offers()).extracting(Offer::machineType).contains("v5litepod-1", "v5litepod-256");
  }

  @Test
  void offers_hostCatalogAndSlices_overrideTheDefaults() {
    PriceCatalog prices = PriceCatalog.defaults().toBuilder()
        .price("gcp-tpu", GcpTpuProvider.PRICE_SKU, "us-west4", Money.usd("1.00"), null).build();
    GcpTpuProvider p = GcpTpuProvider.builder(client).project("p").egress(NetworkEgress.CLOUD_NAT).zones(WEST).slices(4, 8).prices(prices).build();
    assertThat(p.offers()).hasSize(2);
    assertThat(p.offers().get(1).onDemandHourly()).isEqualTo(Money.usd("8"));
    assertThat(p.offers().get(1).spotHourly()).isNull();
  }

  @Test
  void builder_missingProjectOrZones_namesTheField() {
    assertThatThrownBy(() -> GcpTpuProvider.builder(client).zones(WEST).build()).hasMessageContaining("project");
    assertThatThrownBy(() -> GcpTpuProvider.builder(client).project("p").build()).hasMessageContaining("zones");
    assertThatThrownBy(() -> GcpTpuProvider.builder(client).zones("Not A Zone")).hasMessageContaining("zones");
  }

  @Test
  void builderWithSettings_createsItsOwnClient_andClosesIt() {
    GcpTpuProvider own = GcpTpuProvider.builder(emulator.clientSettings()).project("test-project").egress(NetworkEgress.CLOUD_NAT).zones(WEST).build();
    try {
      assertThat(own.status(ProvisionedResource.of(own.id(), "ad-absent-a1", WEST)).phase())
          .isEqualTo(ResourceStatus.Phase.GONE);
    } finally {
      own.close();
    }
    assertThatThrownBy(() -> own.listOwned("tpu-test")).isInstanceOf(ProviderException.Transient.class);
  }

  @Test
  void limits_areBoundedAndPositive() {
    assertThat(provider.limits().callsPerSecond()).isPositive();
    assertThat(provider.limits().callTimeout()).isLessThanOrEqualTo(Duration.ofMinutes(2));
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  private static Offer offer(String zone, int chips) {
    return provider.offers().stream()
        .filter(o -> o.zone().equals(zone) && o.machineType().equals("v5litepod-" + chips))
        .findFirst().orElseThrow();
  }

  private static ProvisionRequest request(Offer offer, boolean spot, Workload w) {
    String job = "tj" + Long.toString(System.nanoTime() % 1_000_000_000L, 36) + SEQ.incrementAndGet();
    return new ProvisionRequest("ad-" + job + "-a1", "tpu-test", job, 1, offer, spot,
        w.withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1")), Map.of("team", "tpu"), null);
  }

  private static ProvisionRequest retry(ProvisionRequest previous, Offer offer, boolean spot) {
    int attempt = previous.attempt() + 1;
    return new ProvisionRequest("ad-" + previous.jobId() + "-a" + attempt, previous.fleetId(), previous.jobId(), attempt,
        offer, spot, previous.workload(), previous.labels(), null);
  }

  private ProvisionedResource provision(ProvisionRequest r) {
    return provision(provider, r);
  }

  private ProvisionedResource provision(GcpTpuProvider p, ProvisionRequest r) {
    ProvisionedResource res = p.provision(r);
    created.add(res);
    return res;
  }

  /** Polls until status throws (a queued resource shows CREATING before it fails), and returns what it threw. */
  private static ProviderException statusError(ProvisionedResource res) {
    return Await.until(res.name() + " failure", PATIENCE, Duration.ofMillis(20), () -> {
      try {
        assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.PENDING);
        return null;
      } catch (ProviderException e) {
        return e;
      }
    });
  }

  private static ResourceStatus await(ProvisionedResource res, ResourceStatus.Phase phase) {
    return Await.until(res.name() + " " + phase, PATIENCE, EVERY, () -> {
      ResourceStatus s = provider.status(res);
      return s.phase() == phase ? s : null;
    });
  }

  private static CreateQueuedResourceRequest lastCreate(String id) {
    List<CreateQueuedResourceRequest> all = emulator.createRequests().stream()
        .filter(c -> c.getQueuedResourceId().equals(id)).toList();
    assertThat(all).isNotEmpty();
    return all.get(all.size() - 1);
  }
}
