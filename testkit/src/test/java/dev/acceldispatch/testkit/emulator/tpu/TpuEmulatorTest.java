package dev.acceldispatch.testkit.emulator.tpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.AlreadyExistsException;
import com.google.api.gax.rpc.FailedPreconditionException;
import com.google.api.gax.rpc.InvalidArgumentException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.api.gax.rpc.ResourceExhaustedException;
import com.google.api.gax.rpc.UnavailableException;
import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.DeleteQueuedResourceRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesResponse;
import com.google.cloud.tpu.v2.ListQueuedResourcesRequest;
import com.google.cloud.tpu.v2.Node;
import com.google.cloud.tpu.v2.QueuedResource;
import com.google.cloud.tpu.v2.QueuedResourceState;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import com.google.longrunning.Operation;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The emulator, driven by the real {@link TpuClient}, as the Cloud TPU API v2 would answer it. */
class TpuEmulatorTest {
  private static final String PARENT = "projects/p/locations/us-west4-a";
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static TpuEmulator emulator;
  private static TpuClient client;

  @BeforeAll
  static void start() throws IOException {
    emulator = TpuEmulator.create(CloudModel.create().setProvisioningTime(Duration.ofMillis(300))).start();
    client = TpuClient.create(emulator.clientSettings());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    client.close();
    client.awaitTermination(10, TimeUnit.SECONDS);
    emulator.close();
    dev.acceldispatch.testkit.Await.noThreadAlive("tpu-emulator-", Duration.ofSeconds(5));
  }

  @AfterEach
  void reset() {
    emulator.model().clearFaults().clearQuotas().clearStockouts();
  }

  @Test
  void createAsync_acceptedRequest_resolvesToTheQueuedResourceThroughGetOperation() throws Exception {
    CreateQueuedResourceRequest req = request(8, "exit 0");
    QueuedResource qr = client.createQueuedResourceAsync(req).get(10, TimeUnit.SECONDS);
    assertThat(qr.getName()).isEqualTo(PARENT + "/queuedResources/" + req.getQueuedResourceId());
    assertThat(qr.getState().getState()).isIn(QueuedResourceState.State.ACCEPTED, QueuedResourceState.State.PROVISIONING,
        QueuedResourceState.State.ACTIVE);
    assertThat(emulator.model().calls(TpuEmulator.OP_OPERATIONS_GET)).isNotEmpty();
  }

  @Test
  void createAsync_quotaDenied_failsWithResourceExhaustedAndTheQueuedResourceIsFailed() {
    emulator.model().setQuota(CloudModel.GLOBAL, TpuEmulator.ON_DEMAND_QUOTA, 0);
    CreateQueuedResourceRequest req = request(4, "exit 0");
    assertThatThrownBy(() -> client.createQueuedResourceAsync(req).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(ResourceExhaustedException.class)
        .hasMessageContaining("Quota limit '" + TpuEmulator.ON_DEMAND_QUOTA + "' has been exceeded. Limit: 0 globally.");
    QueuedResource qr = client.getQueuedResource(name(req));
    assertThat(qr.getState().getState()).isEqualTo(QueuedResourceState.State.FAILED);
    assertThat(qr.getState().getFailedData().getError().getCode()).isEqualTo(8);
  }

  @Test
  void create_stockout_leavesAFailedQueuedResourceWithNoCapacity() {
    emulator.model().stockout("us-west4-a", TpuEmulator.POOL, Duration.ofMinutes(5));
    CreateQueuedResourceRequest req = request(8, "exit 0");
    Operation op = client.createQueuedResourceCallable().call(req);
    assertThat(op.getDone()).isFalse();
    QueuedResource qr = awaitState(req, QueuedResourceState.State.FAILED);
    assertThat(qr.getState().getFailedData().getError().getMessage()).contains("There is no more capacity in the zone");
    assertThat(emulator.model().find(req.getQueuedResourceId())).isEmpty();
  }

  @Test
  void queueing_stockoutWindow_waitsForResourcesThenProvisions() {
    emulator.queueWhenNoCapacity(true);
    try {
      java.time.Instant now = emulator.model().clock().instant();
      emulator.model().stockoutWindow("us-west4-a", TpuEmulator.POOL, now, now.plusMillis(400));
      CreateQueuedResourceRequest req = request(8, "exit 0");
      client.createQueuedResourceCallable().call(req);
      awaitState(req, QueuedResourceState.State.WAITING_FOR_RESOURCES);
      Await.until("ACTIVE", Duration.ofSeconds(10), Duration.ofMillis(50), () ->
          client.getQueuedResource(name(req)).getState().getState() == QueuedResourceState.State.ACTIVE ? true : null);
    } finally {
      emulator.queueWhenNoCapacity(false);
    }
  }

  @Test
  void queueing_validUntilPassesWhileWaiting_failsTheQueuedResource() {
    emulator.queueWhenNoCapacity(true);
    try {
      emulator.model().stockout("us-west4-a", TpuEmulator.POOL, Duration.ofHours(1));
      CreateQueuedResourceRequest base = request(8, "exit 0");
      CreateQueuedResourceRequest req = base.toBuilder().setQueuedResource(base.getQueuedResource().toBuilder()
          .setQueueingPolicy(QueuedResource.QueueingPolicy.newBuilder()
              .setValidUntilDuration(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000)))).build();
      client.createQueuedResourceCallable().call(req);
      QueuedResource failed = Await.until("FAILED", Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
        QueuedResource qr = client.getQueuedResource(name(req));
        return qr.getState().getState() == QueuedResourceState.State.FAILED ? qr : null;
      });
      assertThat(failed.getState().getFailedData().getError().getMessage()).contains("valid_until");
    } finally {
      emulator.queueWhenNoCapacity(false);
    }
  }

  @Test
  void create_sameRequestIdTwice_returnsTheSameOperation_andAnotherRequestIdIsAlreadyExists() {
    CreateQueuedResourceRequest req = request(1, "exit 0");
    Operation first = client.createQueuedResourceCallable().call(req);
    Operation again = client.createQueuedResourceCallable().call(req);
    assertThat(again.getName()).isEqualTo(first.getName());
    assertThatThrownBy(() -> client.createQueuedResourceCallable().call(req.toBuilder().setRequestId("other").build()))
        .isInstanceOf(AlreadyExistsException.class);
    assertThat(emulator.model().resources().stream().filter(r -> r.name().equals(req.getQueuedResourceId()))).hasSize(1);
  }

  @Test
  void create_invalidIdAcceleratorOrLabel_isInvalidArgument() {
    CreateQueuedResourceRequest ok = request(8, "exit 0");
    assertThatThrownBy(() -> client.createQueuedResourceCallable().call(ok.toBuilder().setQueuedResourceId("bad/id").build()))
        .isInstanceOf(InvalidArgumentException.class);
    QueuedResource badType = ok.getQueuedResource().toBuilder().setTpu(ok.getQueuedResource().getTpu().toBuilder()
        .setNodeSpec(0, ok.getQueuedResource().getTpu().getNodeSpec(0).toBuilder()
            .setNode(ok.getQueuedResource().getTpu().getNodeSpec(0).getNode().toBuilder().setAcceleratorType("v5litepod-3")))).build();
    assertThatThrownBy(() -> client.createQueuedResourceCallable().call(ok.toBuilder().setQueuedResource(badType).build()))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("v5litepod-3");
    QueuedResource badLabel = ok.getQueuedResource().toBuilder().setTpu(ok.getQueuedResource().getTpu().toBuilder()
        .setNodeSpec(0, ok.getQueuedResource().getTpu().getNodeSpec(0).toBuilder()
            .setNode(ok.getQueuedResource().getTpu().getNodeSpec(0).getNode().toBuilder().putLabels("Bad Key", "v")))).build();
    assertThatThrownBy(() -> client.createQueuedResourceCallable().call(ok.toBuilder().setQueuedResource(badLabel).build()))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("Invalid label");
  }

  @Test
  void workloadEnd_runsTheStartupScript_andServesTheReportedExitCodeForEveryWorker() {
    CreateQueuedResourceRequest req = request(16, "exit 5");
    emulator.model().planWorkload(req.getQueuedResourceId(), Duration.ofMillis(100), 0);
    client.createQueuedResourceCallable().call(req);
    String node = PARENT + "/nodes/" + req.getQueuedResourceId();
    GetGuestAttributesResponse resp = Await.until("guest attributes", Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
      GetGuestAttributesResponse r = client.getGuestAttributes(
          GetGuestAttributesRequest.newBuilder().setName(node).setQueryPath("accel-dispatch/").build());
      return r.getGuestAttributes(0).getQueryValue().getItemsCount() > 0 ? r : null;
    });
    assertThat(resp.getGuestAttributesList()).hasSize(4)
        .allSatisfy(g -> assertThat(g.getQueryValue().getItems(0).getValue()).isEqualTo("5"));
    assertThat(emulator.observedWorkload(req.getQueuedResourceId())).hasValueSatisfying(r -> assertThat(r.exitCode()).isZero());
    Node n = client.getNode(node);
    assertThat(n.getState()).isEqualTo(Node.State.READY);
    assertThat(n.getNetworkEndpointsCount()).isEqualTo(4);
    assertThat(n.getAcceleratorConfig().getTopology()).isEqualTo("4x4");
  }

  @Test
  void delete_activeWithoutForce_isFailedPrecondition_withForceItIsGone() {
    CreateQueuedResourceRequest req = request(8, "sleep 1");
    emulator.model().planWorkload(req.getQueuedResourceId(), Duration.ofMinutes(5), 0);
    client.createQueuedResourceCallable().call(req);
    Await.until("ACTIVE", Duration.ofSeconds(10), Duration.ofMillis(50), () ->
        client.getQueuedResource(name(req)).getState().getState() == QueuedResourceState.State.ACTIVE ? true : null);
    assertThatThrownBy(() -> client.deleteQueuedResourceCallable().call(
        DeleteQueuedResourceRequest.newBuilder().setName(name(req)).build()))
        .isInstanceOf(FailedPreconditionException.class);
    Operation op = client.deleteQueuedResourceCallable().call(
        DeleteQueuedResourceRequest.newBuilder().setName(name(req)).setForce(true).build());
    assertThat(op.getDone()).isFalse();
    Await.until("gone", Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
      try {
        client.getQueuedResource(name(req));
        return null;
      } catch (NotFoundException e) {
        return true;
      }
    });
    assertThatThrownBy(() -> client.deleteQueuedResourceCallable().call(
        DeleteQueuedResourceRequest.newBuilder().setName(name(req)).setForce(true).build()))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void list_manyQueuedResources_pagesThroughAll() {
    String parent = "projects/p/locations/us-south1-a";
    for (int i = 0; i < 5; i++) {
      CreateQueuedResourceRequest r = request(1, "exit 0");
      client.createQueuedResourceCallable().call(r.toBuilder().setParent(parent).setQueuedResource(
          r.getQueuedResource().toBuilder().setTpu(r.getQueuedResource().getTpu().toBuilder()
              .setNodeSpec(0, r.getQueuedResource().getTpu().getNodeSpec(0).toBuilder().setParent(parent)))).build());
    }
    var page = client.listQueuedResources(ListQueuedResourcesRequest.newBuilder().setParent(parent).setPageSize(2).build());
    List<QueuedResource> all = new java.util.ArrayList<>();
    page.iterateAll().forEach(all::add);
    assertThat(all).hasSize(5);
  }

  @Test
  void faults_unavailableAndLostResponse_lookLikeTheRealService() {
    emulator.model().injectFault(TpuEmulator.OP_GET, Fault.of(Fault.Kind.UNAVAILABLE), 1);
    assertThatThrownBy(() -> client.getQueuedResourceCallable().call(
        com.google.cloud.tpu.v2.GetQueuedResourceRequest.newBuilder().setName(PARENT + "/queuedResources/x").build(),
        com.google.api.gax.grpc.GrpcCallContext.createDefault().withRetrySettings(
            RetrySettings.newBuilder().setMaxAttempts(1).setTotalTimeoutDuration(Duration.ofSeconds(5))
                .setInitialRpcTimeoutDuration(Duration.ofSeconds(5)).setMaxRpcTimeoutDuration(Duration.ofSeconds(5))
                .setRpcTimeoutMultiplier(1).build())))
        .isInstanceOf(UnavailableException.class);
    CreateQueuedResourceRequest req = request(1, "exit 0");
    emulator.model().injectFault(TpuEmulator.OP_CREATE, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    assertThatThrownBy(() -> client.createQueuedResourceCallable().call(req)).isInstanceOf(UnavailableException.class);
    assertThat(client.getQueuedResource(name(req)).getName()).isEqualTo(name(req));
  }

  /** Rule TPU-1: v5litepod-256 runs on 64 ct5lp-hightpu-4t workers. */
  @Test
  void create_v5litepod256_hasSixtyFourWorkers() {
    CreateQueuedResourceRequest req = request(256, "sleep 1");
    emulator.model().planWorkload(req.getQueuedResourceId(), Duration.ofMinutes(5), 0);
    client.createQueuedResourceCallable().call(req);
    awaitState(req, QueuedResourceState.State.ACTIVE);
    Node n = client.getNode(PARENT + "/nodes/" + req.getQueuedResourceId());
    assertThat(n.getNetworkEndpointsCount()).isEqualTo(64);
    assertThat(n.getAcceleratorConfig().getTopology()).isEqualTo("16x16");
  }

  /** Rule TPU-7: received requests show CREATING first, and the create operation is never done on its first poll. */
  @Test
  void create_firstReadAndFirstPoll_showCreatingAndAnUnfinishedOperation() throws Exception {
    emulator.transitionTime(Duration.ofMillis(300));
    try {
      CreateQueuedResourceRequest req = request(8, "exit 0");
      Operation op = client.createQueuedResourceCallable().call(req);
      assertThat(client.getQueuedResource(name(req)).getState().getState()).isEqualTo(QueuedResourceState.State.CREATING);
      com.google.longrunning.Operation first = client.getOperationsClient().getOperation(op.getName());
      assertThat(first.getDone()).isFalse();
      QueuedResource qr = client.createQueuedResourceOperationCallable().resumeFutureCall(op.getName()).get(10, TimeUnit.SECONDS);
      assertThat(qr.getState().getState()).isNotEqualTo(QueuedResourceState.State.CREATING);
    } finally {
      emulator.transitionTime(Duration.ofMillis(100));
    }
  }

  /** Rule TPU-4: an expired request's failed_data holds DEADLINE_EXCEEDED by default, or nothing at all. */
  @Test
  void expiry_validUntilPassesWhileWaiting_failedDataIsDeadlineExceededOrEmpty() {
    emulator.queueWhenNoCapacity(true);
    try {
      emulator.model().stockout("us-west4-a", TpuEmulator.POOL, Duration.ofMinutes(5));
      CreateQueuedResourceRequest deadline = withValidUntil(request(8, "exit 0"), Duration.ofMillis(200));
      client.createQueuedResourceCallable().call(deadline);
      assertThat(awaitState(deadline, QueuedResourceState.State.FAILED).getState().getFailedData().getError().getCode())
          .isEqualTo(com.google.rpc.Code.DEADLINE_EXCEEDED_VALUE);

      emulator.expiryPayload(TpuEmulator.ExpiryPayload.NONE);
      CreateQueuedResourceRequest none = withValidUntil(request(8, "exit 0"), Duration.ofMillis(200));
      client.createQueuedResourceCallable().call(none);
      assertThat(awaitState(none, QueuedResourceState.State.FAILED).getState().getFailedData().hasError()).isFalse();
    } finally {
      emulator.queueWhenNoCapacity(false).expiryPayload(TpuEmulator.ExpiryPayload.DEADLINE_EXCEEDED);
    }
  }

  /** Rule TPU-5: problems found late fail the queued resource with INVALID_ARGUMENT or PERMISSION_DENIED. */
  @Test
  void failNextCreate_invalidArgumentOrPermissionDenied_failsTheQueuedResourceAndItsOperation() {
    emulator.failNextCreate(com.google.rpc.Code.INVALID_ARGUMENT, "Runtime version 'v2-alpha-tpuv5-lite' is not supported in zone us-west4-a.");
    CreateQueuedResourceRequest invalid = request(8, "exit 0");
    assertThatThrownBy(() -> client.createQueuedResourceAsync(invalid).get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(InvalidArgumentException.class).hasMessageContaining("Runtime version");
    assertThat(client.getQueuedResource(name(invalid)).getState().getFailedData().getError().getCode())
        .isEqualTo(com.google.rpc.Code.INVALID_ARGUMENT_VALUE);
    assertThat(emulator.model().find(invalid.getQueuedResourceId())).isEmpty();

    emulator.failNextCreate(com.google.rpc.Code.PERMISSION_DENIED, "Permission 'iam.serviceAccounts.actAs' denied on service account.");
    CreateQueuedResourceRequest denied = request(8, "exit 0");
    client.createQueuedResourceCallable().call(denied);
    assertThat(awaitState(denied, QueuedResourceState.State.FAILED).getState().getFailedData().getError().getCode())
        .isEqualTo(com.google.rpc.Code.PERMISSION_DENIED_VALUE);
  }

  /** Rule TPU-6: a dropped request is NOT_FOUND and only its create operation carries the error. */
  @Test
  void dropNextCreate_queuedResourceVanishes_andTheOperationKeepsTheError() {
    emulator.dropNextCreate(com.google.rpc.Code.PERMISSION_DENIED, "The caller does not have permission");
    CreateQueuedResourceRequest req = request(8, "exit 0");
    assertThatThrownBy(() -> client.createQueuedResourceAsync(req).get(10, TimeUnit.SECONDS))
        .hasMessageContaining("The caller does not have permission");
    assertThatThrownBy(() -> client.getQueuedResource(name(req))).isInstanceOf(NotFoundException.class);
  }

  /** Rule TPU-9: a preempted spot slice shows SUSPENDING, then SUSPENDED, both initiated by the service. */
  @Test
  void preempt_spotSlice_isSuspendingThenSuspended() {
    emulator.transitionTime(Duration.ofMillis(300));
    try {
      CreateQueuedResourceRequest plain = request(4, "sleep 1");
      CreateQueuedResourceRequest req = plain.toBuilder().setQueuedResource(plain.getQueuedResource().toBuilder()
          .setSpot(QueuedResource.Spot.getDefaultInstance())).build();
      emulator.model().planWorkload(req.getQueuedResourceId(), Duration.ofMinutes(5), 0);
      client.createQueuedResourceCallable().call(req);
      awaitState(req, QueuedResourceState.State.ACTIVE);
      assertThat(emulator.model().preempt(req.getQueuedResourceId())).isTrue();
      QueuedResource suspending = client.getQueuedResource(name(req));
      assertThat(suspending.getState().getState()).isEqualTo(QueuedResourceState.State.SUSPENDING);
      assertThat(suspending.getState().getStateInitiator()).isEqualTo(QueuedResourceState.StateInitiator.SERVICE);
      awaitState(req, QueuedResourceState.State.SUSPENDED);
    } finally {
      emulator.transitionTime(Duration.ofMillis(100));
    }
  }

  /** Rule TPU-8: a delete shows DELETING and its operation is done only once the queued resource is gone. */
  @Test
  void delete_takesTime_deletingThenGone_operationDoneAfter() throws Exception {
    CreateQueuedResourceRequest req = request(8, "exit 0");
    client.createQueuedResourceCallable().call(req);
    awaitState(req, QueuedResourceState.State.ACCEPTED, QueuedResourceState.State.PROVISIONING, QueuedResourceState.State.ACTIVE);
    emulator.transitionTime(Duration.ofMillis(300));
    try {
      Operation op = client.deleteQueuedResourceCallable().call(
          DeleteQueuedResourceRequest.newBuilder().setName(name(req)).setForce(true).build());
      assertThat(op.getDone()).isFalse();
      assertThat(client.getQueuedResource(name(req)).getState().getState()).isEqualTo(QueuedResourceState.State.DELETING);
      client.deleteQueuedResourceOperationCallable().resumeFutureCall(op.getName()).get(10, TimeUnit.SECONDS);
      assertThatThrownBy(() -> client.getQueuedResource(name(req))).isInstanceOf(NotFoundException.class);
    } finally {
      emulator.transitionTime(Duration.ofMillis(100));
    }
  }

  private static QueuedResource awaitState(CreateQueuedResourceRequest req, QueuedResourceState.State... states) {
    return Await.until(java.util.Arrays.toString(states), Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
      QueuedResource qr = client.getQueuedResource(name(req));
      return List.of(states).contains(qr.getState().getState()) ? qr : null;
    });
  }

  private static CreateQueuedResourceRequest withValidUntil(CreateQueuedResourceRequest req, Duration d) {
    java.time.Instant until = emulator.model().clock().instant().plus(d);
    return req.toBuilder().setQueuedResource(req.getQueuedResource().toBuilder().setQueueingPolicy(
        QueuedResource.QueueingPolicy.newBuilder().setValidUntilTime(com.google.protobuf.Timestamp.newBuilder()
            .setSeconds(until.getEpochSecond()).setNanos(until.getNano())))).build();
  }

  private static CreateQueuedResourceRequest request(int chips, String script) {
    String id = "emu-" + SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100000, 36);
    Node node = Node.newBuilder()
        .setAcceleratorType("v5litepod-" + chips)
        .setRuntimeVersion("v2-alpha-tpuv5-lite")
        .putLabels("accel-dispatch-fleet", "emu")
        .putMetadata("startup-script", "#!/bin/sh\n/bin/sh -c '" + script + "'\nrc=$?\n"
            + "curl -s -X PUT --data \"$rc\" -H 'Metadata-Flavor: Google' "
            + "http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/accel-dispatch/exit-code\n")
        .build();
    return CreateQueuedResourceRequest.newBuilder()
        .setParent(PARENT)
        .setQueuedResourceId(id)
        .setRequestId("req-" + id)
        .setQueuedResource(QueuedResource.newBuilder().setTpu(QueuedResource.Tpu.newBuilder()
            .addNodeSpec(QueuedResource.Tpu.NodeSpec.newBuilder().setParent(PARENT).setNodeId(id).setNode(node))))
        .build();
  }

  private static String name(CreateQueuedResourceRequest req) {
    return req.getParent() + "/queuedResources/" + req.getQueuedResourceId();
  }
}
