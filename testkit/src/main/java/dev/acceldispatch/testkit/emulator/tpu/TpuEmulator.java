package dev.acceldispatch.testkit.emulator.tpu;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.DeleteQueuedResourceRequest;
import com.google.cloud.tpu.v2.TpuSettings;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.Operation;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local Cloud TPU API v2 server for tests: the real {@code TpuClient} talks to it over plaintext
 * gRPC on an ephemeral localhost port ({@link #clientSettings()}), and every call is translated onto
 * a {@link CloudModel}.
 *
 * <p>What it serves: {@code CreateQueuedResource}, {@code GetQueuedResource}, {@code
 * ListQueuedResources}, {@code DeleteQueuedResource}, {@code GetNode}, {@code GetGuestAttributes} and
 * {@code google.longrunning.Operations/GetOperation}, with the real messages, states and error codes.
 *
 * <p>How the model maps onto the API:
 *
 * <ul>
 *   <li>Pool {@value #POOL}, units = chips. Quota names {@value #ON_DEMAND_QUOTA} for on-demand and
 *       {@value #SPOT_QUOTA} for spot (the per-zone v5e quota names of the Cloud TPU API; the spot
 *       one is our reading of the "preemptible" quota family).
 *   <li>Create: the queued resource appears ACCEPTED, then PROVISIONING, then ACTIVE with a READY
 *       node, as the model's provisioning time passes. When the model denies the allocation, the
 *       queued resource is created in state FAILED with {@code failed_data.error} =
 *       RESOURCE_EXHAUSTED: "There is no more capacity in the zone ..." for a stockout, "Quota limit
 *       '...' has been exceeded. Limit: N in zone|region ...|globally." for quota (the create
 *       operation then ends with the same error). A real queued resource would wait in
 *       WAITING_FOR_RESOURCES; failing it at once lets tests see the denial. {@link
 *       #queueWhenNoCapacity(boolean)} switches to waiting, bounded by the request's {@code
 *       valid_until}.
 *   <li>Spot preemption ({@link CloudModel#preempt}): the queued resource becomes SUSPENDED with
 *       state initiator SERVICE and the node PREEMPTED; an on-demand slice taken back shows a
 *       TERMINATED node. {@link #loseWorker} breaks one worker host of a slice: the node goes
 *       REPAIRING (health UNHEALTHY_MAINTENANCE) and that worker's endpoint disappears.
 *   <li>Multi-host slices (16 chips and up) have one worker per {@value #CHIPS_PER_WORKER} chips
 *       ({@code ct5lp-hightpu-4t} VMs); smaller slices have one worker. Each worker is a {@code
 *       network_endpoints} entry and answers {@code GetGuestAttributes} for itself.
 *   <li>Time (all of it from the model's clock): a queued resource is CREATING for {@link
 *       #transitionTime}, and its create operation is not done before that nor on its first poll;
 *       a spot preemption shows SUSPENDING before SUSPENDED; a delete shows DELETING and its
 *       operation is done only after that. Late failures ({@link #failNextCreate}, {@link
 *       #dropNextCreate}) and every documented {@code failed_data} payload ({@link ExpiryPayload})
 *       can be produced. The rules and their sources are listed in the testkit README.
 *   <li>When the model says the workload ended, the node's metadata {@code startup-script} is run
 *       once in a {@link ScriptSandbox} with a fake {@code docker} (exiting with the planned code)
 *       and a fake {@code curl} that stores what is PUT to the metadata server's {@code
 *       .../instance/guest-attributes/NAMESPACE/KEY}. {@code GetGuestAttributes} then serves those
 *       values for every worker (all workers run the same script; it is run once and mirrored).
 *   <li>Faults (operation names {@link #OP_CREATE} etc.): UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED
 *       and PERMISSION_DENIED become those gRPC statuses; THROTTLED becomes RESOURCE_EXHAUSTED with
 *       an ErrorInfo (reason RATE_LIMIT_EXCEEDED) and a RetryInfo; SLOW delays the response;
 *       LOSE_RESPONSE performs the call and then answers UNAVAILABLE.
 *   <li>Idempotency: a create or delete repeating a {@code request_id} gets the original operation
 *       back; a create of an existing id with another request id gets ALREADY_EXISTS.
 * </ul>
 */
public final class TpuEmulator implements AutoCloseable {
  /** The capacity pool of v5e chips in the model. */
  public static final String POOL = "tpu-v5e";
  /** The on-demand quota name, counted in chips per zone. */
  public static final String ON_DEMAND_QUOTA = "TPUV5sLitepodPerProjectPerZoneForTPUAPI";
  /** The spot quota name, counted in chips per zone. */
  public static final String SPOT_QUOTA = "TPUV5sPreemptibleLitepodPerProjectPerZoneForTPUAPI";
  /**
   * Chips per worker VM of a multi-host v5e slice (16 chips and up): they run on {@code
   * ct5lp-hightpu-4t} VMs with 4 chips each, so v5litepod-16 has 4 workers and v5litepod-256 has 64
   * (rule TPU-1).
   */
  public static final int CHIPS_PER_WORKER = 4;

  /** What a queued resource's {@code failed_data} holds when its {@code valid_until} passes while it waits. */
  public enum ExpiryPayload {
    /** {@code error} = DEADLINE_EXCEEDED naming the expired time (the default). */
    DEADLINE_EXCEEDED,
    /** No error at all: {@code failed_data} is empty. */
    NONE,
    /** {@code error} = RESOURCE_EXHAUSTED naming the expired time. */
    RESOURCE_EXHAUSTED
  }
  /** The api name recorded in the model's calls. */
  public static final String API = "tpu";
  /** CreateQueuedResource. */
  public static final String OP_CREATE = "tpu.create";
  /** GetQueuedResource. */
  public static final String OP_GET = "tpu.get";
  /** GetNode. */
  public static final String OP_GET_NODE = "tpu.getNode";
  /** DeleteQueuedResource. */
  public static final String OP_DELETE = "tpu.delete";
  /** ListQueuedResources. */
  public static final String OP_LIST = "tpu.list";
  /** google.longrunning.Operations/GetOperation. */
  public static final String OP_OPERATIONS_GET = "tpu.operations.get";
  /** GetGuestAttributes. */
  public static final String OP_GUEST_ATTRIBUTES = "tpu.guestAttributes";

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final CloudModel model;
  private final TpuService service;
  private Server server;
  private ExecutorService executor;
  private EventLoopGroup boss;
  private EventLoopGroup workers;

  private TpuEmulator(CloudModel model, ScriptSandbox sandbox) {
    this.model = model;
    this.service = new TpuService(model, sandbox);
  }

  /** An emulator (not started) over {@code model}. */
  public static TpuEmulator create(CloudModel model) {
    return new TpuEmulator(Objects.requireNonNull(model, "model"), defaultSandbox());
  }

  /** An emulator over a fresh {@link CloudModel#create()}. */
  public static TpuEmulator create() {
    return create(CloudModel.create());
  }

  /**
   * The sandbox the emulator runs startup scripts in: a fake {@code curl} that records PUTs to
   * guest attributes under {@code $SANDBOX/guest-attributes/}.
   */
  static ScriptSandbox defaultSandbox() {
    return new ScriptSandbox()
        .timeout(Duration.ofSeconds(20))
        .fake(
            "curl",
            String.join(
                "\n",
                "url=''; data=''; method=GET",
                "while [ $# -gt 0 ]; do",
                "  case \"$1\" in",
                "    -d|--data|--data-binary|--data-raw) data=\"$2\"; shift 2 ;;",
                "    -X|--request) method=\"$2\"; shift 2 ;;",
                "    -H|--header|-o|--output|-m|--max-time|--retry) shift 2 ;;",
                "    http://*|https://*) url=\"$1\"; shift ;;",
                "    *) shift ;;",
                "  esac",
                "done",
                "printf '%s %s\\n' \"$method\" \"$url\" >> \"$SANDBOX/curl.log\"",
                "case \"$url\" in",
                "  http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/*/*)",
                "    key=\"${url#http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/}\"",
                "    mkdir -p \"$SANDBOX/guest-attributes/${key%%/*}\"",
                "    printf '%s' \"$data\" > \"$SANDBOX/guest-attributes/$key\"",
                "    ;;",
                "  *) echo \"curl: (6) Could not resolve host\" >&2; exit 6 ;;",
                "esac"));
  }

  /**
   * Starts serving on an ephemeral localhost port.
   *
   * @throws UncheckedIOException when the port cannot be bound
   */
  public synchronized TpuEmulator start() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    int n = INSTANCES.incrementAndGet();
    AtomicInteger threads = new AtomicInteger();
    executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "tpu-emulator-" + n + "-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    boss = new NioEventLoopGroup(1, executor);
    workers = new NioEventLoopGroup(2, executor);
    try {
      server =
          NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
              .channelType(NioServerSocketChannel.class)
              .bossEventLoopGroup(boss)
              .workerEventLoopGroup(workers)
              .executor(executor)
              .addService(service)
              .addService(operationsService())
              .build()
              .start();
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private ServerServiceDefinition operationsService() {
    // grpc-google-common-protos (OperationsGrpc) is not available, so the method is registered by hand.
    MethodDescriptor<GetOperationRequest, Operation> getOperation =
        MethodDescriptor.<GetOperationRequest, Operation>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("google.longrunning.Operations/GetOperation")
            .setRequestMarshaller(ProtoUtils.marshaller(GetOperationRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(Operation.getDefaultInstance()))
            .build();
    return ServerServiceDefinition.builder("google.longrunning.Operations")
        .addMethod(getOperation, ServerCalls.asyncUnaryCall(service::getOperation))
        .build();
  }

  /** The port it listens on. */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("not started");
    }
    return server.getPort();
  }

  /** {@code 127.0.0.1:port}, the gRPC endpoint. */
  public String endpoint() {
    return "127.0.0.1:" + port();
  }

  /**
   * Settings for a real {@code TpuClient} that talks to this emulator: plaintext, no credentials,
   * and long-running operations polled every 20-200 ms for up to 30 s instead of the SDK's 5-45 s
   * (the polling logic itself is the SDK's). Callers may adjust them further with {@code toBuilder()}.
   */
  public TpuSettings clientSettings() {
    try {
      TpuSettings.Builder b = TpuSettings.newBuilder()
          .setCredentialsProvider(NoCredentialsProvider.create())
          .setTransportChannelProvider(
              InstantiatingGrpcChannelProvider.newBuilder()
                  .setEndpoint(endpoint())
                  .setChannelConfigurator(channel -> channel.usePlaintext())
                  .build());
      OperationTimedPollAlgorithm quick = OperationTimedPollAlgorithm.create(RetrySettings.newBuilder()
          .setInitialRetryDelayDuration(Duration.ofMillis(20)).setRetryDelayMultiplier(1.5)
          .setMaxRetryDelayDuration(Duration.ofMillis(200)).setInitialRpcTimeoutDuration(Duration.ZERO)
          .setRpcTimeoutMultiplier(1.0).setMaxRpcTimeoutDuration(Duration.ZERO)
          .setTotalTimeoutDuration(Duration.ofSeconds(30)).build());
      b.createQueuedResourceOperationSettings().setPollingAlgorithm(quick);
      b.deleteQueuedResourceOperationSettings().setPollingAlgorithm(quick);
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The model behind it. */
  public CloudModel model() {
    return model;
  }

  /**
   * What the sandboxed run of {@code queuedResourceId}'s startup script showed, once its workload
   * ended and the run happened (it happens on the first API read after the end).
   */
  public Optional<ScriptSandbox.Result> observedWorkload(String queuedResourceId) {
    return service.observedWorkload(queuedResourceId);
  }

  /**
   * Breaks worker {@code worker} (from 0) of the slice {@code queuedResourceId}: its host is lost.
   * Returns false when there is no such resource or worker.
   */
  public boolean loseWorker(String queuedResourceId, int worker) {
    return service.loseWorker(queuedResourceId, worker);
  }

  /**
   * How a stockout is answered. False (the default): the queued resource fails at once (state
   * FAILED, RESOURCE_EXHAUSTED "no more capacity"), so a test sees the denial quickly. True: as the
   * real service does, it waits in WAITING_FOR_RESOURCES, and every read tries the model again
   * until capacity appears (provisioning then starts) or its {@code valid_until} passes (then it
   * fails with RESOURCE_EXHAUSTED naming the expired time). Quota denials always fail at once.
   */
  public TpuEmulator queueWhenNoCapacity(boolean queue) {
    service.queueWhenNoCapacity(queue);
    return this;
  }

  /**
   * How long the transitional states last, in model time: CREATING after a create (its operation is
   * not done before), SUSPENDING before SUSPENDED after a spot preemption, DELETING after a delete
   * (its operation is not done before, and the queued resource is listed until then). Default 100 ms.
   */
  public TpuEmulator transitionTime(Duration d) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException("transitionTime: a duration of zero or more, got " + d);
    }
    service.transitionTime(d);
    return this;
  }

  /** What {@code failed_data} holds when a waiting queued resource expires; default DEADLINE_EXCEEDED. */
  public TpuEmulator expiryPayload(ExpiryPayload payload) {
    service.expiryPayload(Objects.requireNonNull(payload, "payload"));
    return this;
  }

  /**
   * The next created queued resource fails once CREATING is over, as a problem the service
   * discovers late does (for example {@code INVALID_ARGUMENT} for a runtime version the zone does
   * not offer, {@code PERMISSION_DENIED} for a service account the caller may not act as): state
   * FAILED with {@code failed_data.error} = {@code code} and {@code message}, and its create
   * operation ends with the same error.
   */
  public TpuEmulator failNextCreate(com.google.rpc.Code code, String message) {
    service.failNextCreate(status(code, message), false);
    return this;
  }

  /**
   * The next created queued resource disappears once CREATING is over (reads answer NOT_FOUND), and
   * only its create operation tells why: it ends with {@code code} and {@code message}.
   */
  public TpuEmulator dropNextCreate(com.google.rpc.Code code, String message) {
    service.failNextCreate(status(code, message), true);
    return this;
  }

  private static com.google.rpc.Status status(com.google.rpc.Code code, String message) {
    return com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(Objects.requireNonNull(message, "message")).build();
  }

  /** Every CreateQueuedResource request received, in order, as sent (including repeats). */
  public List<CreateQueuedResourceRequest> createRequests() {
    return service.createRequests();
  }

  /** Every DeleteQueuedResource request received, in order. */
  public List<DeleteQueuedResourceRequest> deleteRequests() {
    return service.deleteRequests();
  }

  /** How many queued resources exist (in any state, FAILED included). */
  public int queuedResourceCount() {
    return service.count();
  }

  /** Stops the server and every thread it started. */
  @Override
  public synchronized void close() {
    if (server != null) {
      server.shutdownNow();
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      server = null;
    }
    if (boss != null) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
      boss = null;
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
      workers = null;
    }
    if (executor != null) {
      executor.shutdownNow();
      try {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      executor = null;
    }
  }
}
