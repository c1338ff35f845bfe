package dev.acceldispatch.testkit.emulator.tpu;

import com.google.cloud.tpu.v2.AcceleratorConfig;
import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.DeleteQueuedResourceRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesResponse;
import com.google.cloud.tpu.v2.GetNodeRequest;
import com.google.cloud.tpu.v2.GetQueuedResourceRequest;
import com.google.cloud.tpu.v2.GuestAttributes;
import com.google.cloud.tpu.v2.GuestAttributesEntry;
import com.google.cloud.tpu.v2.GuestAttributesValue;
import com.google.cloud.tpu.v2.ListQueuedResourcesRequest;
import com.google.cloud.tpu.v2.ListQueuedResourcesResponse;
import com.google.cloud.tpu.v2.NetworkEndpoint;
import com.google.cloud.tpu.v2.Node;
import com.google.cloud.tpu.v2.OperationMetadata;
import com.google.cloud.tpu.v2.QueuedResource;
import com.google.cloud.tpu.v2.QueuedResourceState;
import com.google.cloud.tpu.v2.TpuGrpc;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.acceldispatch.testkit.cloud.AllocationDenied;
import dev.acceldispatch.testkit.cloud.AllocationRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The Cloud TPU v2 service implementation behind {@link TpuEmulator}. */
final class TpuService extends TpuGrpc.TpuImplBase {
  private static final Pattern PARENT = Pattern.compile("projects/([^/]+)/locations/([^/]+)");
  private static final Pattern QR_NAME = Pattern.compile("projects/([^/]+)/locations/([^/]+)/queuedResources/([^/]+)");
  private static final Pattern NODE_NAME = Pattern.compile("projects/([^/]+)/locations/([^/]+)/nodes/([^/]+)");
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.~+%-]+");
  private static final Pattern NODE_ID = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern ACCELERATOR = Pattern.compile("v5litepod-(1|4|8|16|32|64|128|256)");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
  private static final Map<Integer, String> TOPOLOGY =
      Map.of(1, "1x1", 4, "2x2", 8, "2x4", 16, "4x4", 32, "4x8", 64, "8x8", 128, "8x16", 256, "16x16");
  private static final String GUEST_ATTRIBUTES_DIR = "guest-attributes";

  private final CloudModel model;
  private static final Logger LOG = LoggerFactory.getLogger(TpuService.class);
  private final ScriptSandbox sandbox;
  private final Map<String, Record> records = new LinkedHashMap<>();
  private final Map<String, OperationRecord> operations = new LinkedHashMap<>();
  /** Queued resources the service dropped after a late failure, for their create operations. */
  private final Map<String, Record> dropped = new LinkedHashMap<>();
  private final Map<String, String> operationByRequestId = new LinkedHashMap<>();
  private final List<CreateQueuedResourceRequest> creates = new CopyOnWriteArrayList<>();
  private final List<DeleteQueuedResourceRequest> deletes = new CopyOnWriteArrayList<>();
  private final AtomicLong operationSeq = new AtomicLong();
  private volatile boolean queueWhenNoCapacity;
  private volatile Duration transitionTime = Duration.ofMillis(100);
  private volatile TpuEmulator.ExpiryPayload expiryPayload = TpuEmulator.ExpiryPayload.DEADLINE_EXCEEDED;
  private final java.util.Queue<LateFailure> lateFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Map<String, Integer> operationPolls = new java.util.concurrent.ConcurrentHashMap<>();

  /** A failure the service discovers after accepting a create (rule TPU-5 of the testkit README). */
  record LateFailure(com.google.rpc.Status status, boolean drop) {}

  /** One queued resource as the emulator keeps it. */
  private static final class Record {
    final String id;
    final String name;
    final String parent;
    final String zone;
    final String nodeName;
    final QueuedResource requested;
    final Instant createTime;
    final int chips;
    final int workers;
    final boolean spot;
    final AllocationRequest allocation;
    final Map<String, String> labels;
    final Instant validUntil;
    com.google.rpc.Status failure;
    boolean waiting;
    LateFailure lateFailure;
    /** The create operation's error when the service dropped the queued resource (rule TPU-6). */
    com.google.rpc.Status dropped;
    Instant deletingSince;
    String deleteOperation;
    final Set<Integer> lostWorkers = new TreeSet<>();
    final Map<String, String> guestAttributes = new TreeMap<>();
    ScriptSandbox.Result workload;
    boolean ran;
    int sandboxRuns;

    Record(String id, String name, String parent, String zone, String nodeName, QueuedResource requested,
        Instant createTime, int chips, boolean spot, AllocationRequest allocation, Map<String, String> labels,
        Instant validUntil) {
      this.id = id;
      this.name = name;
      this.parent = parent;
      this.zone = zone;
      this.nodeName = nodeName;
      this.requested = requested;
      this.createTime = createTime;
      this.chips = chips;
      this.workers = chips >= 16 ? chips / TpuEmulator.CHIPS_PER_WORKER : 1;
      this.spot = spot;
      this.allocation = allocation;
      this.labels = labels;
      this.validUntil = validUntil;
    }
  }

  private record OperationRecord(String name, String verb, String target, String recordId, Instant created, boolean delete) {}

  TpuService(CloudModel model, ScriptSandbox sandbox) {
    this.model = model;
    this.sandbox = sandbox;
  }

  // ---- RPCs -------------------------------------------------------------------------------------

  @Override
  public void createQueuedResource(CreateQueuedResourceRequest req, StreamObserver<Operation> obs) {
    creates.add(req);
    QueuedResource qr = req.getQueuedResource();
    Map<String, String> details = new LinkedHashMap<>();
    details.put("requestId", req.getRequestId());
    details.put("spot", Boolean.toString(qr.hasSpot()));
    if (qr.getTpu().getNodeSpecCount() > 0) {
      Node n = qr.getTpu().getNodeSpec(0).getNode();
      details.put("acceleratorType", n.getAcceleratorType());
      details.put("runtimeVersion", n.getRuntimeVersion());
      n.getLabelsMap().forEach((k, v) -> details.put("label." + k, v));
      details.put("startupScript", n.getMetadataOrDefault("startup-script", ""));
    }
    if (qr.hasQueueingPolicy() && qr.getQueueingPolicy().hasValidUntilTime()) {
      details.put("validUntil", Instant.ofEpochSecond(qr.getQueueingPolicy().getValidUntilTime().getSeconds()).toString());
    }
    String target = req.getParent() + "/queuedResources/" + req.getQueuedResourceId();
    handle(TpuEmulator.OP_CREATE, target, details, obs, () -> create(req));
  }

  private Operation create(CreateQueuedResourceRequest req) {
    Matcher p = PARENT.matcher(req.getParent());
    if (!p.matches()) {
      throw invalid("parent must look like projects/PROJECT/locations/ZONE, got '" + req.getParent() + "'");
    }
    String zone = p.group(2);
    String id = req.getQueuedResourceId();
    if (!ID.matcher(id).matches()) {
      throw invalid("queued_resource_id must match ^[A-Za-z0-9_.~+%-]+$, got '" + id + "'");
    }
    QueuedResource qr = req.getQueuedResource();
    if (!qr.hasTpu() || qr.getTpu().getNodeSpecCount() != 1) {
      throw invalid("queued_resource.tpu.node_spec: exactly one node spec is supported");
    }
    QueuedResource.Tpu.NodeSpec spec = qr.getTpu().getNodeSpec(0);
    if (!spec.getParent().equals(req.getParent())) {
      throw invalid("node_spec.parent '" + spec.getParent() + "' must equal the request parent '" + req.getParent() + "'");
    }
    if (!NODE_ID.matcher(spec.getNodeId()).matches()) {
      throw invalid("node_spec.node_id must match [a-z]([-a-z0-9]{0,61}[a-z0-9])?, got '" + spec.getNodeId() + "'");
    }
    Node node = spec.getNode();
    Matcher acc = ACCELERATOR.matcher(node.getAcceleratorType());
    if (!acc.matches()) {
      throw invalid("Accelerator type '" + node.getAcceleratorType() + "' is not available in zone " + zone
          + "; this emulator serves v5litepod-{1,4,8,16,32,64,128,256}");
    }
    if (node.getRuntimeVersion().isEmpty()) {
      throw invalid("node.runtime_version is required");
    }
    if (node.getLabelsCount() > 64) {
      throw invalid("node.labels: at most 64 labels, got " + node.getLabelsCount());
    }
    for (Map.Entry<String, String> l : node.getLabelsMap().entrySet()) {
      if (!LABEL_KEY.matcher(l.getKey()).matches() || !LABEL_VALUE.matcher(l.getValue()).matches()) {
        throw invalid("Invalid label: key '" + l.getKey() + "' value '" + l.getValue()
            + "'. Keys must match [a-z][a-z0-9_-]{0,62} and values [a-z0-9_-]{0,63}");
      }
    }
    OperationRecord repeated;
    synchronized (this) {
      String seen = req.getRequestId().isEmpty() ? null : operationByRequestId.get(req.getRequestId());
      repeated = seen == null ? null : operations.get(seen);
    }
    if (repeated != null) {
      return render(repeated, false);
    }
    synchronized (this) {
      String raced = req.getRequestId().isEmpty() ? null : operationByRequestId.get(req.getRequestId());
      if (raced != null) {
        return Operation.newBuilder().setName(raced).setMetadata(metadata(operations.get(raced))).build();
      }
      String name = req.getParent() + "/queuedResources/" + id;
      if (records.containsKey(id)) {
        throw Status.ALREADY_EXISTS.withDescription("Resource '" + records.get(id).name + "' already exists").asRuntimeException();
      }
      int chips = Integer.parseInt(acc.group(1));
      boolean spot = qr.hasSpot() || node.getSchedulingConfig().getSpot() || node.getSchedulingConfig().getPreemptible();
      String region = zone.contains("-") ? zone.substring(0, zone.lastIndexOf('-')) : zone;
      AllocationRequest allocation = new AllocationRequest(id, region, zone, TpuEmulator.POOL, chips, spot,
          List.of(spot ? TpuEmulator.SPOT_QUOTA : TpuEmulator.ON_DEMAND_QUOTA));
      Instant validUntil = null;
      if (qr.hasQueueingPolicy() && qr.getQueueingPolicy().hasValidUntilTime()) {
        Timestamp t = qr.getQueueingPolicy().getValidUntilTime();
        validUntil = Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
      } else if (qr.hasQueueingPolicy() && qr.getQueueingPolicy().hasValidUntilDuration()) {
        com.google.protobuf.Duration d = qr.getQueueingPolicy().getValidUntilDuration();
        validUntil = model.clock().instant().plusSeconds(d.getSeconds()).plusNanos(d.getNanos());
      }
      Record r = new Record(id, name, req.getParent(), zone, req.getParent() + "/nodes/" + spec.getNodeId(),
          qr, model.clock().instant(), chips, spot, allocation, Map.copyOf(node.getLabelsMap()), validUntil);
      r.waiting = true;
      r.lateFailure = lateFailures.poll();
      allocate(r);
      records.put(id, r);
      OperationRecord op = newOperation("create", name, id, false);
      if (!req.getRequestId().isEmpty()) {
        operationByRequestId.put(req.getRequestId(), op.name());
      }
      // The first answer is never done: the client learns the outcome by polling the operation.
      return Operation.newBuilder().setName(op.name()).setMetadata(metadata(op)).build();
    }
  }

  /**
   * Tries to get the slice from the model. A capacity denial fails the queued resource at once,
   * unless the emulator queues (then it waits in WAITING_FOR_RESOURCES and tries again on every
   * read, until its valid_until passes); a quota denial always fails it.
   */
  private void allocate(Record r) {
    synchronized (r) {
      if (!r.waiting) {
        return;
      }
      try {
        model.allocate(r.allocation, r.labels);
        r.waiting = false;
      } catch (AllocationDenied d) {
        Instant now = model.clock().instant();
        boolean expired = r.validUntil != null && !now.isBefore(r.validUntil);
        if (d.reason() == AllocationDenied.Reason.CAPACITY && queueWhenNoCapacity && !expired) {
          return;
        }
        r.waiting = false;
        r.failure = queueWhenNoCapacity && expired && d.reason() == AllocationDenied.Reason.CAPACITY
            ? expiry(r)
            : denial(d, r.zone);
      }
    }
  }

  /** What failed_data holds when valid_until passes while waiting (rule TPU-4): configurable, since it varies. */
  private com.google.rpc.Status expiry(Record r) {
    String text = "The queued resource's valid_until time " + r.validUntil + " passed before capacity for "
        + r.chips + " v5e chips became available in zone " + r.zone;
    return switch (expiryPayload) {
      case DEADLINE_EXCEEDED -> com.google.rpc.Status.newBuilder().setCode(Code.DEADLINE_EXCEEDED_VALUE).setMessage(text).build();
      case RESOURCE_EXHAUSTED -> com.google.rpc.Status.newBuilder().setCode(Code.RESOURCE_EXHAUSTED_VALUE).setMessage(text).build();
      case NONE -> com.google.rpc.Status.getDefaultInstance();
    };
  }

  /**
   * Moves a record along what time alone changes: a late failure strikes once CREATING is over
   * (the resources it held go back), and a finished delete removes it.
   */
  private void advance(Record r) {
    Instant now = model.clock().instant();
    boolean drop = false;
    synchronized (r) {
      if (r.lateFailure != null && !creating(r, now)) {
        LateFailure lf = r.lateFailure;
        r.lateFailure = null;
        if (r.failure == null) {
          r.waiting = false;
          model.delete(r.id);
          if (lf.drop()) {
            r.dropped = lf.status();
            drop = true;
          } else {
            r.failure = lf.status();
          }
        }
      }
      if (r.deletingSince != null && !now.isBefore(r.deletingSince.plus(transitionTime))) {
        drop = true;
      }
    }
    if (drop) {
      synchronized (this) {
        records.remove(r.id, r);
        if (r.dropped != null) {
          dropped.put(r.id, r);
        }
      }
    }
  }

  private boolean creating(Record r, Instant now) {
    return now.isBefore(r.createTime.plus(transitionTime));
  }

  private static com.google.rpc.Status denial(AllocationDenied d, String zone) {
    String message;
    if (d.reason() == AllocationDenied.Reason.CAPACITY) {
      message = "There is no more capacity in the zone \"" + zone + "\"; you can try in another zone where Cloud TPU"
          + " Nodes are offered (see https://cloud.google.com/tpu/docs/regions) [EID: 0x" + Long.toHexString(zone.hashCode() & 0xffffffffL) + "]";
    } else {
      String where = CloudModel.GLOBAL.equals(d.scope()) ? "globally"
          : d.scope().equals(zone) ? "in zone " + zone : "in region " + d.scope();
      message = "Quota limit '" + d.quotaName() + "' has been exceeded. Limit: " + (long) d.limit() + " " + where + ".";
    }
    return com.google.rpc.Status.newBuilder().setCode(Code.RESOURCE_EXHAUSTED_VALUE).setMessage(message).build();
  }

  @Override
  public void getQueuedResource(GetQueuedResourceRequest req, StreamObserver<QueuedResource> obs) {
    handle(TpuEmulator.OP_GET, req.getName(), Map.of(), obs, () -> {
      Record r = byQueuedResourceName(req.getName());
      settle(r);
      return view(r);
    });
  }

  @Override
  public void listQueuedResources(ListQueuedResourcesRequest req, StreamObserver<ListQueuedResourcesResponse> obs) {
    handle(TpuEmulator.OP_LIST, req.getParent(), Map.of(), obs, () -> {
      Matcher p = PARENT.matcher(req.getParent());
      if (!p.matches()) {
        throw invalid("parent must look like projects/PROJECT/locations/ZONE, got '" + req.getParent() + "'");
      }
      boolean all = p.group(2).equals("-");
      List<Record> matching;
      List<Record> snapshot;
      synchronized (this) {
        snapshot = List.copyOf(records.values());
      }
      snapshot.forEach(this::advance);
      synchronized (this) {
        matching = records.values().stream()
            .filter(r -> all ? r.parent.startsWith("projects/" + p.group(1) + "/") : r.parent.equals(req.getParent()))
            .toList();
      }
      int size = req.getPageSize() <= 0 ? 50 : Math.min(req.getPageSize(), 500);
      int from;
      try {
        from = req.getPageToken().isEmpty() ? 0 : Integer.parseInt(req.getPageToken());
      } catch (NumberFormatException e) {
        throw invalid("page_token is not valid");
      }
      ListQueuedResourcesResponse.Builder b = ListQueuedResourcesResponse.newBuilder();
      for (int i = from; i < Math.min(matching.size(), from + size); i++) {
        settle(matching.get(i));
        b.addQueuedResources(view(matching.get(i)));
      }
      if (from + size < matching.size()) {
        b.setNextPageToken(Integer.toString(from + size));
      }
      return b.build();
    });
  }

  @Override
  public void deleteQueuedResource(DeleteQueuedResourceRequest req, StreamObserver<Operation> obs) {
    deletes.add(req);
    handle(TpuEmulator.OP_DELETE, req.getName(), Map.of("force", Boolean.toString(req.getForce()), "requestId", req.getRequestId()), obs, () -> {
      synchronized (this) {
        if (!req.getRequestId().isEmpty() && operationByRequestId.containsKey(req.getRequestId())) {
          return render(operations.get(operationByRequestId.get(req.getRequestId())), false);
        }
        Record r = byQueuedResourceName(req.getName());
        QueuedResourceState.State state = view(r).getState().getState();
        if (state == QueuedResourceState.State.DELETING) {
          // Already being deleted: the delete under way answers.
          return render(operations.get(r.deleteOperation), false);
        }
        if (!req.getForce()
            && state != QueuedResourceState.State.ACCEPTED && state != QueuedResourceState.State.WAITING_FOR_RESOURCES
            && state != QueuedResourceState.State.FAILED && state != QueuedResourceState.State.SUSPENDED) {
          throw Status.FAILED_PRECONDITION
              .withDescription("Queued resource " + r.name + " is in state " + state
                  + "; delete its nodes first or set force=true")
              .asRuntimeException();
        }
        // The machines go at once (the model frees them); the queued resource stays DELETING for
        // the transition time and the delete operation is done only after that (rule TPU-8).
        model.delete(r.id);
        OperationRecord op = newOperation("delete", r.name, r.id, true);
        synchronized (r) {
          r.deletingSince = model.clock().instant();
          r.deleteOperation = op.name();
          r.lateFailure = null;
        }
        if (!req.getRequestId().isEmpty()) {
          operationByRequestId.put(req.getRequestId(), op.name());
        }
        return render(op, false);
      }
    });
  }

  @Override
  public void getNode(GetNodeRequest req, StreamObserver<Node> obs) {
    handle(TpuEmulator.OP_GET_NODE, req.getName(), Map.of(), obs, () -> {
      Record r = byNodeName(req.getName());
      settle(r);
      return nodeView(r);
    });
  }

  @Override
  public void getGuestAttributes(GetGuestAttributesRequest req, StreamObserver<GetGuestAttributesResponse> obs) {
    handle(TpuEmulator.OP_GUEST_ATTRIBUTES, req.getName(), Map.of("queryPath", req.getQueryPath()), obs, () -> {
      Record r = byNodeName(req.getName());
      settle(r);
      Node node = nodeView(r);
      GetGuestAttributesResponse.Builder b = GetGuestAttributesResponse.newBuilder();
      List<Integer> wanted = new ArrayList<>();
      if (req.getWorkerIdsCount() == 0) {
        for (int w = 0; w < r.workers; w++) {
          wanted.add(w);
        }
      } else {
        for (String w : req.getWorkerIdsList()) {
          try {
            int i = Integer.parseInt(w);
            if (i < 0 || i >= r.workers) {
              throw invalid("worker id " + w + " out of range 0.." + (r.workers - 1));
            }
            wanted.add(i);
          } catch (NumberFormatException e) {
            throw invalid("worker id '" + w + "' is not a number");
          }
        }
      }
      boolean up = node.getState() == Node.State.READY || node.getState() == Node.State.REPAIRING;
      synchronized (r) {
        for (int w : wanted) {
          GuestAttributesValue.Builder v = GuestAttributesValue.newBuilder();
          if (up && !r.lostWorkers.contains(w)) {
            r.guestAttributes.forEach((path, value) -> {
              if (req.getQueryPath().isEmpty() || path.startsWith(req.getQueryPath())) {
                int slash = path.indexOf('/');
                v.addItems(GuestAttributesEntry.newBuilder()
                    .setNamespace(path.substring(0, slash)).setKey(path.substring(slash + 1)).setValue(value));
              }
            });
          }
          b.addGuestAttributes(GuestAttributes.newBuilder().setQueryPath(req.getQueryPath()).setQueryValue(v));
        }
      }
      return b.build();
    });
  }

  void getOperation(GetOperationRequest req, StreamObserver<Operation> obs) {
    handle(TpuEmulator.OP_OPERATIONS_GET, req.getName(), Map.of(), obs, () -> {
      OperationRecord op;
      synchronized (this) {
        op = operations.get(req.getName());
      }
      if (op == null) {
        throw Status.NOT_FOUND.withDescription("Operation '" + req.getName() + "' was not found").asRuntimeException();
      }
      // A first poll soon after the start is never answered done (rule TPU-7): the client must
      // poll again. An operation older than the transition time is reported as it stands.
      boolean polledBefore = operationPolls.merge(op.name(), 1, Integer::sum) > 1;
      boolean old = !model.clock().instant().isBefore(op.created().plus(transitionTime));
      return render(op, polledBefore || old);
    });
  }

  // ---- views ------------------------------------------------------------------------------------

  /**
   * The operation as it stands. It is done only when {@code mayBeDone} (the client polled it before)
   * and what it waits for happened: a create leaves CREATING, a delete finishes.
   */
  private Operation render(OperationRecord op, boolean mayBeDone) {
    Operation.Builder b = Operation.newBuilder().setName(op.name()).setMetadata(metadata(op));
    Record r;
    Record gone;
    synchronized (this) {
      r = records.get(op.recordId());
      gone = dropped.get(op.recordId());
    }
    if (r != null) {
      advance(r);
      synchronized (this) {
        r = records.get(op.recordId());
        gone = dropped.get(op.recordId());
      }
    }
    if (op.delete()) {
      boolean finished = r == null || r.deletingSince == null;
      return finished && mayBeDone ? b.setDone(true).setResponse(Any.pack(Empty.getDefaultInstance())).build() : b.build();
    }
    if (r == null && gone != null && gone.dropped != null) {
      return mayBeDone ? b.setDone(true).setError(gone.dropped).build() : b.build();
    }
    if (r == null) {
      // Deleted since: report what a finished create reports, the resource as it was asked for.
      return mayBeDone ? b.setDone(true).setResponse(Any.pack(QueuedResource.newBuilder().setName(op.target()).build())).build() : b.build();
    }
    allocate(r);
    if (!mayBeDone || creating(r, model.clock().instant())) {
      return b.build();
    }
    if (failure(r) != null) {
      return b.setDone(true).setError(failure(r)).build();
    }
    settle(r);
    return b.setDone(true).setResponse(Any.pack(view(r))).build();
  }

  private Any metadata(OperationRecord op) {
    return Any.pack(OperationMetadata.newBuilder()
        .setCreateTime(ts(op.created())).setTarget(op.target()).setVerb(op.verb()).setApiVersion("v2").build());
  }

  private synchronized OperationRecord newOperation(String verb, String target, String recordId, boolean delete) {
    Matcher m = QR_NAME.matcher(target);
    String parent = m.matches() ? "projects/" + m.group(1) + "/locations/" + m.group(2) : "projects/-/locations/-";
    OperationRecord op = new OperationRecord(
        parent + "/operations/operation-" + model.clock().millis() + "-" + operationSeq.incrementAndGet(),
        verb, target, recordId, model.clock().instant(), delete);
    operations.put(op.name(), op);
    return op;
  }

  private QueuedResource view(Record r) {
    advance(r);
    allocate(r);
    Instant now = model.clock().instant();
    QueuedResourceState.Builder st = QueuedResourceState.newBuilder();
    if (r.deletingSince != null) {
      st.setState(QueuedResourceState.State.DELETING);
    } else if (creating(r, now)) {
      // Received, admission not yet decided (rule TPU-7).
      st.setState(QueuedResourceState.State.CREATING);
    } else if (waiting(r)) {
      st.setState(QueuedResourceState.State.WAITING_FOR_RESOURCES);
    } else if (failure(r) != null) {
      QueuedResourceState.FailedData.Builder failed = QueuedResourceState.FailedData.newBuilder();
      if (!failure(r).equals(com.google.rpc.Status.getDefaultInstance())) {
        failed.setError(failure(r));
      }
      st.setState(QueuedResourceState.State.FAILED).setFailedData(failed)
          .setStateInitiator(QueuedResourceState.StateInitiator.SERVICE);
    } else {
      Optional<SimulatedResource> s = model.find(r.id);
      if (s.isEmpty()) {
        // The model dropped it behind our back: the platform took the resources.
        st.setState(QueuedResourceState.State.SUSPENDED)
            .setSuspendedData(QueuedResourceState.SuspendedData.getDefaultInstance())
            .setStateInitiator(QueuedResourceState.StateInitiator.SERVICE);
      } else {
        SimulatedResource sr = s.get();
        switch (sr.phase()) {
          case PROVISIONING -> {
            Duration total = Duration.between(sr.createdAt(), sr.runningAt());
            Duration gone = Duration.between(sr.createdAt(), model.clock().instant());
            if (gone.compareTo(total.dividedBy(3)) < 0) {
              st.setState(QueuedResourceState.State.ACCEPTED).setAcceptedData(QueuedResourceState.AcceptedData.getDefaultInstance());
            } else {
              st.setState(QueuedResourceState.State.PROVISIONING)
                  .setProvisioningData(QueuedResourceState.ProvisioningData.getDefaultInstance());
            }
          }
          case RUNNING, EXITED -> st.setState(QueuedResourceState.State.ACTIVE).setActiveData(QueuedResourceState.ActiveData.getDefaultInstance());
          case PREEMPTED -> {
            if (r.spot && now.isBefore(sr.endsAt().plus(transitionTime))) {
              // The service is taking the slice back (rule TPU-9).
              st.setState(QueuedResourceState.State.SUSPENDING)
                  .setSuspendingData(QueuedResourceState.SuspendingData.getDefaultInstance())
                  .setStateInitiator(QueuedResourceState.StateInitiator.SERVICE);
            } else if (r.spot) {
              st.setState(QueuedResourceState.State.SUSPENDED)
                  .setSuspendedData(QueuedResourceState.SuspendedData.getDefaultInstance())
                  .setStateInitiator(QueuedResourceState.StateInitiator.SERVICE);
            } else {
              st.setState(QueuedResourceState.State.ACTIVE).setActiveData(QueuedResourceState.ActiveData.getDefaultInstance());
            }
          }
        }
      }
    }
    return r.requested.toBuilder().setName(r.name).setCreateTime(ts(r.createTime)).setState(st).build();
  }

  private Node nodeView(Record r) {
    advance(r);
    allocate(r);
    if (failure(r) != null || waiting(r) || r.deletingSince != null || !present(r)) {
      throw notFound(r.nodeName);
    }
    Optional<SimulatedResource> s = model.find(r.id);
    if (s.isEmpty()) {
      throw notFound(r.nodeName);
    }
    SimulatedResource sr = s.get();
    Node.Builder n = r.requested.getTpu().getNodeSpec(0).getNode().toBuilder()
        .setName(r.nodeName)
        .setCreateTime(ts(r.createTime))
        .setApiVersion(Node.ApiVersion.V2)
        .setAcceleratorConfig(AcceleratorConfig.newBuilder()
            .setType(AcceleratorConfig.Type.V5LITE_POD).setTopology(TOPOLOGY.get(r.chips)))
        .setQueuedResource(r.name);
    if (r.spot) {
      n.setSchedulingConfig(n.getSchedulingConfig().toBuilder().setSpot(true));
    }
    int ready;
    switch (sr.phase()) {
      case PROVISIONING -> {
        Duration total = Duration.between(sr.createdAt(), sr.runningAt());
        Duration gone = Duration.between(sr.createdAt(), model.clock().instant());
        ready = total.isZero() ? r.workers : (int) Math.min(r.workers - 1, r.workers * gone.toMillis() / Math.max(1, total.toMillis()));
        n.setState(Node.State.CREATING);
      }
      case RUNNING, EXITED -> {
        ready = r.workers;
        n.setState(Node.State.READY).setHealth(Node.Health.HEALTHY);
      }
      default -> {
        ready = 0;
        n.setState(r.spot ? Node.State.PREEMPTED : Node.State.TERMINATED)
            .setHealthDescription(r.spot ? "The TPU was preempted." : "The TPU was terminated for host maintenance.");
      }
    }
    synchronized (r) {
      if (!r.lostWorkers.isEmpty() && n.getState() == Node.State.READY) {
        n.setState(Node.State.REPAIRING).setHealth(Node.Health.UNHEALTHY_MAINTENANCE)
            .setHealthDescription("Worker(s) " + r.lostWorkers + " lost; the slice is being repaired.");
      }
      for (int w = 0; w < ready; w++) {
        if (!r.lostWorkers.contains(w)) {
          n.addNetworkEndpoints(NetworkEndpoint.newBuilder()
              .setIpAddress("10.130." + (r.id.hashCode() & 0x7f) + "." + (w + 2)).setPort(8470));
        }
      }
    }
    return n.build();
  }

  /** Runs the startup script once the model says the workload ended, and keeps what it reported. */
  private void settle(Record r) {
    allocate(r);
    if (failure(r) != null || waiting(r)) {
      return;
    }
    Optional<SimulatedResource> s = model.find(r.id);
    if (s.isEmpty() || s.get().phase() != SimulatedResource.Phase.EXITED) {
      return;
    }
    synchronized (r) {
      if (r.ran) {
        return;
      }
      r.ran = true;
      String script = r.requested.getTpu().getNodeSpec(0).getNode().getMetadataOrDefault("startup-script", null);
      if (script == null) {
        return;
      }
      ScriptSandbox.Result result;
      try {
        result = sandbox.run(script, s.get().exitCode());
      } catch (IllegalStateException e) {
        // The script did not finish. Under load the sandbox's own process start can stall, which
        // is the emulator's fault, not the workload's: run it again on a later read, up to three
        // times; after that it reports nothing, like a real machine whose script hangs.
        LOG.warn("startup script of {} did not finish (run {} of 3): {}", r.id, r.sandboxRuns + 1, e.getMessage());
        if (++r.sandboxRuns < 3) {
          r.ran = false;
        }
        return;
      } catch (java.io.UncheckedIOException e) {
        // The sandbox itself failed (not the script): try again on the next read.
        LOG.warn("could not run the startup script of {} ({}); will retry", r.id, e.getMessage());
        r.ran = false;
        return;
      }
      if (result.file("curl.log") == null && ++r.sandboxRuns < 3) {
        // The script never reached its reporter and left no output: the sandbox's process did not
        // run it (seen under load), which is the emulator's fault, not the workload's. Run it
        // again on a later read.
        LOG.warn("startup script of {} ran nothing (exit {}, run {} of 3); will retry", r.id, result.exitCode(), r.sandboxRuns);
        r.ran = false;
        return;
      }
      r.workload = result;
      r.guestAttributes.putAll(result.filesUnder(GUEST_ATTRIBUTES_DIR));
    }
  }

  // ---- test hooks -------------------------------------------------------------------------------

  Optional<ScriptSandbox.Result> observedWorkload(String id) {
    Record r;
    synchronized (this) {
      r = records.get(id);
    }
    if (r == null) {
      return Optional.empty();
    }
    settle(r);
    synchronized (r) {
      return Optional.ofNullable(r.workload);
    }
  }

  boolean loseWorker(String id, int worker) {
    Record r;
    synchronized (this) {
      r = records.get(id);
    }
    if (r == null || failure(r) != null || waiting(r) || worker < 0 || worker >= r.workers) {
      return false;
    }
    synchronized (r) {
      return r.lostWorkers.add(worker);
    }
  }

  private synchronized boolean present(Record r) {
    return records.get(r.id) == r;
  }

  private static com.google.rpc.Status failure(Record r) {
    synchronized (r) {
      return r.failure;
    }
  }

  private static boolean waiting(Record r) {
    synchronized (r) {
      return r.waiting;
    }
  }

  void queueWhenNoCapacity(boolean queue) {
    this.queueWhenNoCapacity = queue;
  }

  void transitionTime(Duration d) {
    this.transitionTime = d;
  }

  void expiryPayload(TpuEmulator.ExpiryPayload p) {
    this.expiryPayload = p;
  }

  void failNextCreate(com.google.rpc.Status status, boolean drop) {
    lateFailures.add(new LateFailure(status, drop));
  }

  List<CreateQueuedResourceRequest> createRequests() {
    return List.copyOf(creates);
  }

  List<DeleteQueuedResourceRequest> deleteRequests() {
    return List.copyOf(deletes);
  }

  int count() {
    List<Record> all;
    synchronized (this) {
      all = List.copyOf(records.values());
    }
    all.forEach(this::advance);
    synchronized (this) {
      return records.size();
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private synchronized Record byQueuedResourceName(String name) {
    Matcher m = QR_NAME.matcher(name);
    if (!m.matches()) {
      throw invalid("name must look like projects/P/locations/Z/queuedResources/ID, got '" + name + "'");
    }
    Record r = records.get(m.group(3));
    if (r != null) {
      advance(r);
      r = records.get(m.group(3));
    }
    if (r == null || !r.name.equals(name)) {
      throw notFound(name);
    }
    return r;
  }

  private synchronized Record byNodeName(String name) {
    Matcher m = NODE_NAME.matcher(name);
    if (!m.matches()) {
      throw invalid("name must look like projects/P/locations/Z/nodes/ID, got '" + name + "'");
    }
    for (Record r : records.values()) {
      if (r.nodeName.equals(name)) {
        return r;
      }
    }
    throw notFound(name);
  }

  private <T> void handle(String operation, String target, Map<String, String> details, StreamObserver<T> obs, Supplier<T> action) {
    Optional<Fault> fault = model.onCall(TpuEmulator.API, operation, target, details);
    try {
      pause(model.latency(operation));
      Fault f = fault.orElse(null);
      if (f != null && f.kind() == Fault.Kind.SLOW) {
        pause(f.delay() == null ? Duration.ofSeconds(5) : f.delay());
      } else if (f != null && f.kind() != Fault.Kind.LOSE_RESPONSE) {
        obs.onError(faultStatus(f, operation, target));
        return;
      }
      T response = action.get();
      if (f != null && f.kind() == Fault.Kind.LOSE_RESPONSE) {
        obs.onError(Status.UNAVAILABLE
            .withDescription("Connection closed after the request was sent; the response was lost").asRuntimeException());
        return;
      }
      obs.onNext(response);
      obs.onCompleted();
    } catch (StatusRuntimeException e) {
      obs.onError(e);
    } catch (RuntimeException e) {
      obs.onError(Status.INTERNAL.withDescription("Internal error encountered.").withCause(e).asRuntimeException());
    }
  }

  private static StatusRuntimeException faultStatus(Fault f, String operation, String target) {
    return switch (f.kind()) {
      case UNAVAILABLE -> Status.UNAVAILABLE.withDescription("The service is currently unavailable.").asRuntimeException();
      case INTERNAL -> Status.INTERNAL.withDescription("Internal error encountered.").asRuntimeException();
      case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED.withDescription("Deadline exceeded.").asRuntimeException();
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED
          .withDescription("Permission '" + permission(operation) + "' denied on resource '" + target + "' (or it may not exist).")
          .asRuntimeException();
      case THROTTLED -> {
        Duration after = f.retryAfter() == null ? Duration.ofSeconds(1) : f.retryAfter();
        com.google.rpc.Status st = com.google.rpc.Status.newBuilder()
            .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
            .setMessage("Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service"
                + " 'tpu.googleapis.com' for consumer 'project_number:0'.")
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("RATE_LIMIT_EXCEEDED").setDomain("googleapis.com")
                .putMetadata("service", "tpu.googleapis.com").putMetadata("quota_metric", "tpu.googleapis.com/default_requests")
                .build()))
            .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
                .setSeconds(after.getSeconds()).setNanos(after.getNano())).build()))
            .build();
        yield StatusProto.toStatusRuntimeException(st);
      }
      case SLOW, LOSE_RESPONSE -> throw new IllegalStateException("not an error fault: " + f.kind());
    };
  }

  private static String permission(String operation) {
    return switch (operation) {
      case TpuEmulator.OP_CREATE -> "tpu.queuedResources.create";
      case TpuEmulator.OP_DELETE -> "tpu.queuedResources.delete";
      case TpuEmulator.OP_LIST -> "tpu.queuedResources.list";
      case TpuEmulator.OP_GET_NODE, TpuEmulator.OP_GUEST_ATTRIBUTES -> "tpu.nodes.get";
      case TpuEmulator.OP_OPERATIONS_GET -> "tpu.operations.get";
      default -> "tpu.queuedResources.get";
    };
  }

  private static void pause(Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      return;
    }
    try {
      TimeUnit.MILLISECONDS.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private static StatusRuntimeException notFound(String name) {
    return Status.NOT_FOUND.withDescription("Resource '" + name + "' was not found").asRuntimeException();
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
