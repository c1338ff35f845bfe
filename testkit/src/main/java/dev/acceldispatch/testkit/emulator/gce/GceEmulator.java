package dev.acceldispatch.testkit.emulator.gce;

import com.google.cloud.compute.v1.Error;
import com.google.cloud.compute.v1.ErrorDetails;
import com.google.cloud.compute.v1.ErrorInfo;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.GuestAttributes;
import com.google.cloud.compute.v1.GuestAttributesEntry;
import com.google.cloud.compute.v1.GuestAttributesValue;
import com.google.cloud.compute.v1.Help;
import com.google.cloud.compute.v1.HelpLink;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.httpjson.InstantiatingHttpJsonChannelProvider;
import com.google.api.gax.rpc.ClientSettings;
import com.google.cloud.compute.v1.AcceleratorTypeList;
import com.google.cloud.compute.v1.AcceleratorTypesSettings;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.MachineTypesSettings;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.MachineTypeList;
import com.google.cloud.compute.v1.InstanceList;
import com.google.cloud.compute.v1.LocalizedMessage;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.QuotaExceededInfo;
import com.google.cloud.compute.v1.SerialPortOutput;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.acceldispatch.testkit.cloud.AllocationDenied;
import dev.acceldispatch.testkit.cloud.AllocationRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A local emulator of the Compute Engine REST API that the real {@code InstancesClient} and {@code
 * ZoneOperationsClient} talk to (point them at {@link #endpoint()}, which carries the {@code http://}
 * scheme the client needs).
 *
 * <p>It serves {@code instances.insert/get/delete/list/getGuestAttributes/getSerialPortOutput} and {@code
 * zoneOperations.get/wait} with the JSON of the real message classes, and translates them onto a
 * {@link CloudModel}:
 *
 * <ul>
 *   <li>insert allocates in the model (pool = the GPU's catalog id such as {@code nvidia-t4},
 *       units = GPUs, quotas = the real names such as {@code NVIDIA_T4_GPUS} or {@code
 *       PREEMPTIBLE_NVIDIA_T4_GPUS}, and {@code GPUS_ALL_REGIONS}). It answers with a {@code RUNNING}
 *       operation that is {@code DONE} on the first poll. A stockout arrives inside that operation
 *       ({@code ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS} with its error details); a quota error is
 *       a synchronous 403 {@code quotaExceeded}, or an operation error {@code QUOTA_EXCEEDED} when
 *       {@link #quotaErrorsInOperation(boolean)} is set. With {@link #stockoutDelay(Duration)} a
 *       stocked-out insert runs a while, its instance showing as {@code PROVISIONING}, before the
 *       operation fails and the instance disappears (as GCE does). A {@code requestId} seen before returns
 *       the original operation; an existing name is a 409 {@code alreadyExists}.
 *   <li>get shows {@code PROVISIONING}, then {@code RUNNING}; once the model says the workload
 *       ended, the instance's real {@code startup-script} runs once in a {@link ScriptSandbox}
 *       with a fake {@code curl} standing in for the metadata server, and what the script PUT to
 *       {@code instance/guest-attributes/...} is served by getGuestAttributes. A spot instance
 *       the model preempts becomes {@code TERMINATED} ({@code instanceTerminationAction} STOP)
 *       or disappears (DELETE).
 *   <li>every handler first calls {@link CloudModel#onCall} with operation names {@code
 *       gce.insert}, {@code gce.get}, {@code gce.delete}, {@code gce.list}, {@code
 *       gce.guestAttributes}, {@code gce.serialPort} and {@code gce.operations.get} (also for wait) and applies the fault in
 *       GCE's wire format: 503 {@code backendError}, 500, 504, 403 {@code rateLimitExceeded} (or
 *       429 with {@link #throttleWith429(boolean)}) with {@code Retry-After}, a delay, a lost
 *       response (the call takes effect, then a 503), 403 {@code forbidden}.
 * </ul>
 *
 * <p>Start it with {@link #start()}, stop it with {@link #close()}; it binds an ephemeral port on
 * the loopback address and leaves no thread behind.
 */
public final class GceEmulator implements AutoCloseable {
  /** The metadata server URL prefix a startup script PUTs guest attributes to. */
  public static final String GUEST_ATTRIBUTES_URL =
      "http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/";

  private static final String API = "compute";
  private static final String SERIAL_PORT_1 = "/dev/ttyS0";
  private static final String SERIAL_PORT_1_FILE = "ttyS0";
  private static final String BASE = "https://www.googleapis.com/compute/v1/";
  private static final Pattern PATH =
      Pattern.compile(
          "/compute/v1/projects/([^/]+)/zones/([^/]+)/(instances|operations|machineTypes|acceleratorTypes)(?:/([^/]+))?(?:/([^/]+))?");
  private static final Pattern NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
  private static final Pattern LABEL_TERM =
      Pattern.compile("labels\\.([a-z][a-z0-9_-]*)\\s*(=|eq)\\s*\"?([a-z0-9_-]*)\"?");

  /*
   * The fake metadata server: records the Metadata-Flavor header (the real one refuses requests
   * without it) and writes the PUT body to $SANDBOX/guest-attributes/<namespace>~<key>.
   */
  private static final String FAKE_CURL =
      "data=''; hasdata=''; url=''; flavor=''; method=''\n"
          + "while [ $# -gt 0 ]; do\n"
          + "  case \"$1\" in\n"
          + "    -d|--data|--data-binary|--data-raw) data=\"$2\"; hasdata=1; shift 2;;\n"
          + "    -X|--request) method=\"$2\"; shift 2;;\n"
          + "    -H|--header) case \"$2\" in 'Metadata-Flavor: Google') flavor=1;; esac; shift 2;;\n"
          + "    -o|--output|-m|--max-time|--retry|--retry-delay|--connect-timeout|-w) shift 2;;\n"
          + "    http://*|https://*) url=\"$1\"; shift;;\n"
          + "    *) shift;;\n"
          + "  esac\n"
          + "done\n"
          + "[ -n \"$method\" ] || { if [ -n \"$hasdata\" ]; then method=POST; else method=GET; fi; }\n"
          + "[ -n \"$flavor\" ] || { echo 'metadata server: missing Metadata-Flavor: Google' >&2; exit 22; }\n"
          + "case \"$url\" in\n"
          + "  " + GUEST_ATTRIBUTES_URL + "*)\n"
          + "    [ \"$method\" = PUT ] || { echo \"metadata server: guest attributes need PUT, got $method\" >&2; exit 22; }\n"
          + "    key=${url#" + GUEST_ATTRIBUTES_URL + "}\n"
          + "    mkdir -p \"$SANDBOX/guest-attributes\"\n"
          + "    printf '%s' \"$data\" > \"$SANDBOX/guest-attributes/$(printf '%s' \"$key\" | tr '/' '~')\";;\n"
          + "  *) echo \"curl: (6) Could not resolve host in $url\" >&2; exit 6;;\n"
          + "esac\n";

  private final CloudModel model;
  private final Map<String, Vm> vms = new ConcurrentHashMap<>();
  private final Map<String, Op> operations = new ConcurrentHashMap<>();
  private final Map<String, String> requestIds = new ConcurrentHashMap<>();
  /** Sandbox runs of instances that are gone, so tests can still read them. */
  private final Map<String, ScriptSandbox.Result> finished = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong(4_000_000_000_000_000L);
  private final AtomicInteger opSeq = new AtomicInteger();
  private volatile boolean quotaInOperation;
  private volatile int stockoutHttpStatus = 503;
  private volatile boolean throttle429;
  private volatile Duration scriptTimeout = Duration.ofSeconds(30);
  private volatile Duration stockoutDelay = Duration.ZERO;
  private volatile int serialBufferBytes = 1 << 20;
  /** Instances that GCE shows while a doomed insert runs (stockout), until the operation fails. */
  private final Map<String, Ghost> ghosts = new ConcurrentHashMap<>();
  private final GceZoneCatalog zones = new GceZoneCatalog();
  private final java.util.Queue<InsertFailure> insertFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();

  private record InsertFailure(String code, String message, int httpStatus) {}

  private record Ghost(String project, String zone, Instance inserted, Instant until) {}
  private HttpServer server;
  private ExecutorService executor;

  /** One emulated instance. */
  private static final class Vm {
    final String project;
    final String zone;
    final Instance inserted;
    final boolean spot;
    final String terminationAction;
    final long id;
    final Map<String, String> guestAttributes = new ConcurrentHashMap<>();
    volatile ScriptSandbox.Result result;
    boolean ran;

    Vm(String project, String zone, Instance inserted, boolean spot, String terminationAction, long id) {
      this.id = id;
      this.project = project;
      this.zone = zone;
      this.inserted = inserted;
      this.spot = spot;
      this.terminationAction = terminationAction;
    }
  }

  /**
   * One zone operation: what it says now, and what it says once done. It is done at {@code doneAt}
   * when that is set, else on the first poll.
   */
  private static final class Op {
    Operation current;
    final Operation done;
    final Instant doneAt;

    Op(Operation current, Operation done, Instant doneAt) {
      this.current = current;
      this.done = done;
      this.doneAt = doneAt;
    }

    synchronized Operation poll(Instant now) {
      if (doneAt != null && now.isBefore(doneAt)) {
        return current;
      }
      current = done;
      return done;
    }

    synchronized Operation peek() {
      return current;
    }
  }

  /** An emulator driven by {@code model}; call {@link #start()}. */
  public GceEmulator(CloudModel model) {
    this.model = model;
  }

  /**
   * Whether quota errors arrive inside the insert operation ({@code QUOTA_EXCEEDED}, HTTP error
   * status 403 on the operation) instead of as a synchronous 403 on the insert (default).
   */
  public GceEmulator quotaErrorsInOperation(boolean inOperation) {
    this.quotaInOperation = inOperation;
    return this;
  }

  /**
   * The {@code httpErrorStatusCode} a stockout operation carries; 503 by default, 0 for none (the
   * client then reports the operation as a success, and only its {@code error} tells).
   */
  public GceEmulator stockoutHttpStatus(int status) {
    this.stockoutHttpStatus = status;
    return this;
  }

  /**
   * How long a stocked-out insert runs before its operation fails; meanwhile the instance shows
   * as {@code PROVISIONING}, then disappears, as GCE does. Zero (default): the operation fails on
   * its first poll and no instance is ever shown.
   */
  public GceEmulator stockoutDelay(Duration d) {
    this.stockoutDelay = d;
    return this;
  }

  /**
   * How many bytes of serial console output an instance keeps; default 1 MB as GCE documents. A
   * test sets it small to reach the discarded-output rule without writing a megabyte.
   */
  public GceEmulator serialBufferBytes(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("serialBufferBytes must be >= 1, got " + bytes);
    }
    this.serialBufferBytes = bytes;
    return this;
  }

  /** Whether injected throttling is an HTTP 429 instead of GCE's usual 403 {@code rateLimitExceeded}. */
  public GceEmulator throttleWith429(boolean use429) {
    this.throttle429 = use429;
    return this;
  }

  /** The longest one startup script may run in the sandbox; default 30 s. */
  public GceEmulator scriptTimeout(Duration d) {
    this.scriptTimeout = d;
    return this;
  }

  /**
   * What exists in {@code zone}: its GPU machine series (of {@code a3-highgpu}, {@code a2-highgpu},
   * {@code a2-ultragpu}, {@code g2-standard}, {@code n1}) and accelerator types (such as {@code
   * nvidia-tesla-t4}), replacing the default table. {@code machineTypes.list} and {@code
   * acceleratorTypes.list} serve it, and an insert of anything else there is refused.
   */
  public GceEmulator zone(String zone, Set<String> series, Set<String> acceleratorTypes) {
    zones.put(zone, series, acceleratorTypes);
    return this;
  }

  /**
   * The next insert is accepted and its operation ends DONE with error {@code code} (for example
   * {@code UNSUPPORTED_OPERATION}, or a permission error with {@code httpStatus} 403) and {@code
   * httpStatus} as its {@code httpErrorStatusCode} (0 for none). No instance is created.
   */
  public GceEmulator failNextInsert(String code, String message, int httpStatus) {
    insertFailures.add(new InsertFailure(code, message, httpStatus));
    return this;
  }

  /** Binds an ephemeral loopback port and starts serving. */
  public GceEmulator start() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String threadName = "gce-emulator-" + server.getAddress().getPort();
    executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    return this;
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The endpoint to give the clients, with its {@code http://} scheme. */
  public String endpoint() {
    return "http://" + server.getAddress().getHostString() + ":" + port();
  }

  /** Settings for a real {@code InstancesClient} on this emulator: its http endpoint, no credentials. */
  public InstancesSettings instancesSettings() {
    return wired(InstancesSettings.newBuilder());
  }

  /** Settings for a real {@code ZoneOperationsClient} on this emulator. */
  public ZoneOperationsSettings zoneOperationsSettings() {
    return wired(ZoneOperationsSettings.newBuilder());
  }

  /** Settings for a real {@code MachineTypesClient} on this emulator. */
  public MachineTypesSettings machineTypesSettings() {
    return wired(MachineTypesSettings.newBuilder());
  }

  /** Settings for a real {@code AcceleratorTypesClient} on this emulator. */
  public AcceleratorTypesSettings acceleratorTypesSettings() {
    return wired(AcceleratorTypesSettings.newBuilder());
  }

  private <S extends ClientSettings<S>, B extends ClientSettings.Builder<S, B>> S wired(B builder) {
    try {
      return builder.setEndpoint(endpoint()).setCredentialsProvider(NoCredentialsProvider.create())
          .setTransportChannelProvider(channel()).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private InstantiatingHttpJsonChannelProvider channel() {
    // The scheme is part of the endpoint: gax-httpjson would put https:// in front of a bare host.
    return InstantiatingHttpJsonChannelProvider.newBuilder().setEndpoint(endpoint()).build();
  }

  /** The cloud model behind it. */
  public CloudModel model() {
    return model;
  }

  /** What the sandboxed run of the instance's startup script showed, once its workload ended. */
  public Optional<ScriptSandbox.Result> observedWorkload(String instanceName) {
    Vm vm = vms.get(instanceName);
    return vm == null ? Optional.ofNullable(finished.get(instanceName)) : Optional.ofNullable(vm.result);
  }

  /** The instance resource as the client sent it in its insert (not the server's view), if it exists. */
  public Optional<Instance> insertedInstance(String instanceName) {
    Vm vm = vms.get(instanceName);
    return Optional.ofNullable(vm == null ? null : vm.inserted);
  }

  /** Stops serving and ends its threads (each sandboxed script run already deleted its directory). */
  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
      try {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  private record Reply(int status, String body, Map<String, String> headers) {
    static Reply json(MessageOrBuilder m) {
      return new Reply(200, print(m), Map.of());
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    Reply reply;
    try {
      reply = route(ex);
    } catch (RuntimeException e) {
      reply = error(500, "backendError", "Internal error: " + e);
    }
    byte[] b = reply.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
    reply.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
    ex.sendResponseHeaders(reply.status(), b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  private Reply route(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> query = query(ex.getRequestURI().getRawQuery());
    Matcher m = PATH.matcher(ex.getRequestURI().getPath());
    if (!m.matches()) {
      return error(404, "notFound", "The requested URL " + ex.getRequestURI().getPath() + " was not found.");
    }
    String project = m.group(1);
    String zone = m.group(2);
    String name = m.group(4);
    String sub = m.group(5);
    boolean instances = m.group(3).equals("instances");
    boolean catalog = m.group(3).equals("machineTypes") || m.group(3).equals("acceleratorTypes");
    String operation;
    if (catalog && name == null && method.equals("GET")) {
      operation = m.group(3).equals("machineTypes") ? "gce.machineTypes.list" : "gce.acceleratorTypes.list";
    } else if (catalog) {
      return error(404, "notFound", "The emulator does not serve " + method + " " + ex.getRequestURI().getPath());
    } else if (instances && name == null && method.equals("POST")) {
      operation = "gce.insert";
    } else if (instances && name == null && method.equals("GET")) {
      operation = "gce.list";
    } else if (instances && "getGuestAttributes".equals(sub) && method.equals("GET")) {
      operation = "gce.guestAttributes";
    } else if (instances && "serialPort".equals(sub) && method.equals("GET")) {
      operation = "gce.serialPort";
    } else if (instances && sub == null && method.equals("GET")) {
      operation = "gce.get";
    } else if (instances && sub == null && method.equals("DELETE")) {
      operation = "gce.delete";
    } else if (!instances && name != null && (sub == null && method.equals("GET") || "wait".equals(sub) && method.equals("POST"))) {
      operation = "gce.operations.get";
    } else {
      return error(404, "notFound", "The emulator does not serve " + method + " " + ex.getRequestURI().getPath());
    }
    Map<String, String> details = new LinkedHashMap<>();
    details.put("method", method);
    details.put("project", project);
    details.put("zone", zone);
    if (query.containsKey("requestId")) {
      details.put("requestId", query.get("requestId"));
    }
    if (query.containsKey("filter")) {
      details.put("filter", query.get("filter"));
    }
    String target = name != null ? name : zone;
    Optional<Fault> fault = model.onCall(API, operation, target, details);
    sleep(model.latency(operation));
    if (fault.isPresent()) {
      Fault f = fault.get();
      switch (f.kind()) {
        case SLOW -> sleep(f.delay());
        case LOSE_RESPONSE -> {
          perform(operation, project, zone, name, body, query);
          return error(503, "backendError", "The service is currently unavailable.");
        }
        default -> {
          return faultReply(f);
        }
      }
    }
    return perform(operation, project, zone, name, body, query);
  }

  private Reply perform(String operation, String project, String zone, String name, String body, Map<String, String> query) {
    return switch (operation) {
      case "gce.insert" -> insert(project, zone, body, query.get("requestId"));
      case "gce.get" -> get(project, zone, name);
      case "gce.delete" -> delete(project, zone, name);
      case "gce.list" -> list(project, zone, query);
      case "gce.guestAttributes" -> guestAttributes(project, zone, name, query);
      case "gce.serialPort" -> serialPort(project, zone, name, query);
      case "gce.operations.get" -> getOperation(project, zone, name);
      case "gce.machineTypes.list" -> listMachineTypes(project, zone);
      case "gce.acceleratorTypes.list" -> listAcceleratorTypes(project, zone);
      default -> throw new IllegalStateException(operation);
    };
  }

  // ---- handlers ---------------------------------------------------------------------------------

  private synchronized Reply insert(String project, String zone, String body, String requestId) {
    if (requestId != null) {
      if (requestId.equals("00000000-0000-0000-0000-000000000000") || !requestId.matches("[0-9a-fA-F-]{36}")) {
        return error(400, "invalid", "Invalid value for field 'requestId': '" + requestId + "'. The request ID must be a valid UUID with the exception that zero UUID is not supported.");
      }
      String opName = requestIds.get(requestId);
      if (opName != null) {
        return Reply.json(operations.get(opName).peek());
      }
    }
    Instance.Builder ib = Instance.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(body, ib);
    } catch (InvalidProtocolBufferException e) {
      return error(400, "parseError", "Invalid JSON payload received. " + e.getMessage());
    }
    Instance in = ib.build();
    String name = in.getName();
    if (!NAME.matcher(name).matches()) {
      return error(400, "invalid", "Invalid value for field 'resource.name': '" + name + "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19})'");
    }
    String instancePath = "projects/" + project + "/zones/" + zone + "/instances/" + name;
    if (vms.containsKey(name) || model.find(name).isPresent()) {
      return error(409, "alreadyExists", "The resource '" + instancePath + "' already exists");
    }
    if (in.getLabelsCount() > 64) {
      return error(400, "invalid", "Invalid value for field 'resource.labels': at most 64 labels are allowed, got " + in.getLabelsCount());
    }
    for (Map.Entry<String, String> l : in.getLabelsMap().entrySet()) {
      if (!LABEL_KEY.matcher(l.getKey()).matches() || !LABEL_VALUE.matcher(l.getValue()).matches()) {
        return error(400, "invalid", "Invalid value for field 'resource.labels': '" + l.getKey() + "'='" + l.getValue()
            + "'. Label keys must match [a-z][a-z0-9_-]{0,62} and values [a-z0-9_-]{0,63}.");
      }
    }
    String startup = metadata(in, "startup-script");
    if (startup != null && startup.getBytes(StandardCharsets.UTF_8).length > 262_144) {
      return error(400, "invalid", "Invalid value for field 'resource.metadata': metadata value 'startup-script' exceeds 262144 bytes");
    }
    boolean spot = in.getScheduling().getProvisioningModel().equals("SPOT");
    String action = in.getScheduling().hasInstanceTerminationAction() ? in.getScheduling().getInstanceTerminationAction() : "STOP";
    if (spot && !in.getScheduling().getOnHostMaintenance().isEmpty() && !in.getScheduling().getOnHostMaintenance().equals("TERMINATE")) {
      return error(400, "invalid", "Invalid value for field 'resource.scheduling.onHostMaintenance': 'MIGRATE'. Spot VMs must use TERMINATE.");
    }
    Object demand = GceGpuCatalog.demand(in, spot);
    if (demand instanceof String message) {
      return error(message.contains("was not found") ? 404 : 400, message.contains("was not found") ? "notFound" : "invalid", message);
    }
    GceGpuCatalog.Demand d = (GceGpuCatalog.Demand) demand;
    String machineType = GceGpuCatalog.lastSegment(in.getMachineType());
    if (zones.zone(zone).isEmpty()) {
      return zoneNotFound(project, zone);
    }
    if (!zones.hasMachineType(zone, machineType)) {
      // Rule GCE-2: A2, A3 and G2 exist in some zones only.
      return error(400, "invalid", "Invalid value for field 'resource.machineType': '" + in.getMachineType()
          + "'. Machine type with name '" + machineType + "' does not exist in zone '" + zone + "'.");
    }
    for (int i = 0; i < in.getGuestAcceleratorsCount(); i++) {
      String accel = GceGpuCatalog.lastSegment(in.getGuestAccelerators(i).getAcceleratorType());
      if (!zones.hasAcceleratorType(zone, accel)) {
        return error(400, "invalid", "Invalid value for field 'resource.guestAccelerators[" + i + "].acceleratorType': '"
            + in.getGuestAccelerators(i).getAcceleratorType() + "'. Accelerator type '" + accel + "' does not exist in zone '" + zone + "'.");
      }
    }
    String series = GceZoneCatalog.series(machineType);
    if (series.startsWith("a3-") && in.getNetworkInterfacesList().stream().noneMatch(n -> n.getNicType().equals("GVNIC"))) {
      // Rule GCE-3: A3 VMs must use gVNIC.
      return error(400, "invalid", "Invalid value for field 'resource.networkInterfaces[0].nicType': '"
          + (in.getNetworkInterfacesCount() == 0 ? "" : in.getNetworkInterfaces(0).getNicType())
          + "'. Machine type " + machineType + " requires the gVNIC network interface (nicType GVNIC).");
    }
    String region = region(zone);
    Operation.Builder running = newOperation(project, zone, "insert", instancePath);
    String diskType = bootDiskType(in);
    if (!GceZoneCatalog.diskTypes(series).contains(diskType)) {
      // Rule GCE-1: the insert is accepted and its operation fails with UNSUPPORTED_OPERATION.
      return Reply.json(register(requestId, running.build(), failedOperation(running, "UNSUPPORTED_OPERATION",
          "The requested disk type " + diskType + " is not supported for the requested machine type " + machineType
              + " (supported: " + new java.util.TreeSet<>(GceZoneCatalog.diskTypes(series)) + ").", 400), null));
    }
    InsertFailure late = insertFailures.poll();
    if (late != null) {
      return Reply.json(register(requestId, running.build(), failedOperation(running, late.code(), late.message(), late.httpStatus()), null));
    }
    try {
      model.allocate(
          new AllocationRequest(name, region, zone, d.pool(), d.units(), spot, d.quotas()), in.getLabelsMap());
    } catch (AllocationDenied denied) {
      if (denied.reason() == AllocationDenied.Reason.QUOTA && !quotaInOperation) {
        return quotaError(denied, region);
      }
      boolean capacity = denied.reason() == AllocationDenied.Reason.CAPACITY;
      Operation done = capacity ? stockoutOperation(running, in, project, zone, d) : quotaOperation(running, denied, region);
      Instant doneAt = null;
      if (capacity && stockoutDelay.compareTo(Duration.ZERO) > 0) {
        doneAt = model.clock().instant().plus(stockoutDelay);
        ghosts.put(name, new Ghost(project, zone, in, doneAt));
      }
      return Reply.json(register(requestId, running.build(), done, doneAt));
    }
    long id = ids.incrementAndGet();
    vms.put(name, new Vm(project, zone, in, spot, action, id));
    running.setTargetId(id);
    Operation done =
        running.clone().setStatus(Operation.Status.DONE).setProgress(100).setEndTime(model.clock().instant().toString()).build();
    return Reply.json(register(requestId, running.build(), done, null));
  }

  private Reply get(String project, String zone, String name) {
    Optional<Instance> view = view(project, zone, name, true);
    return view.isPresent() ? Reply.json(view.get()) : notFound(project, zone, name);
  }

  private Reply delete(String project, String zone, String name) {
    Vm vm = vms.get(name);
    if (vm == null || !vm.zone.equals(zone) || !vm.project.equals(project)) {
      return notFound(project, zone, name);
    }
    retire(name, vm);
    String path = "projects/" + project + "/zones/" + zone + "/instances/" + name;
    Operation.Builder running = newOperation(project, zone, "delete", path);
    Operation done = running.clone().setStatus(Operation.Status.DONE).setProgress(100).build();
    return Reply.json(register(null, running.build(), done, null));
  }

  private Reply list(String project, String zone, Map<String, String> query) {
    Map<String, String> wanted = new LinkedHashMap<>();
    String filter = query.getOrDefault("filter", "").trim();
    if (!filter.isEmpty()) {
      Matcher t = LABEL_TERM.matcher(filter);
      int consumed = 0;
      StringBuilder rest = new StringBuilder();
      while (t.find()) {
        rest.append(filter, consumed, t.start());
        wanted.put(t.group(1), t.group(3));
        consumed = t.end();
      }
      rest.append(filter.substring(consumed));
      if (!rest.toString().replaceAll("(?i)\\bAND\\b|[()\\s]", "").isEmpty()) {
        return error(400, "invalid", "Invalid value for field 'filter': '" + filter + "'. The emulator understands only labels.KEY = \"VALUE\" terms.");
      }
    }
    List<Instance> items = new ArrayList<>();
    for (String name : List.copyOf(vms.keySet())) {
      Optional<Instance> v = view(project, zone, name, false);
      if (v.isPresent() && wanted.entrySet().stream().allMatch(w -> w.getValue().equals(v.get().getLabelsMap().get(w.getKey())))) {
        items.add(v.get());
      }
    }
    String token = query.getOrDefault("pageToken", "");
    String maxText = query.getOrDefault("maxResults", "");
    int max;
    int from;
    try {
      max = maxText.isEmpty() ? 500 : Math.min(500, Integer.parseInt(maxText));
      from = token.isEmpty() ? 0 : Integer.parseInt(token);
    } catch (NumberFormatException e) {
      return error(400, "invalid", "Invalid value for field 'pageToken' or 'maxResults': '" + token + "', '" + maxText + "'");
    }
    InstanceList.Builder out =
        InstanceList.newBuilder().setKind("compute#instanceList").setId("projects/" + project + "/zones/" + zone + "/instances")
            .setSelfLink(BASE + "projects/" + project + "/zones/" + zone + "/instances");
    out.addAllItems(items.subList(Math.min(from, items.size()), Math.min(from + max, items.size())));
    if (from + max < items.size()) {
      out.setNextPageToken(Integer.toString(from + max));
    }
    return Reply.json(out);
  }

  private Reply guestAttributes(String project, String zone, String name, Map<String, String> query) {
    if (view(project, zone, name, true).isEmpty()) {
      return notFound(project, zone, name);
    }
    Vm vm = vms.get(name);
    String self = BASE + "projects/" + project + "/zones/" + zone + "/instances/" + name + "/guestAttributes/";
    GuestAttributes.Builder ga = GuestAttributes.newBuilder().setKind("compute#guestAttributes");
    if (query.containsKey("variableKey")) {
      String key = query.get("variableKey");
      String value = vm == null ? null : vm.guestAttributes.get(key);
      if (value == null) {
        return error(404, "notFound", "The resource '" + self.substring(BASE.length()) + key + "' was not found");
      }
      return Reply.json(ga.setVariableKey(key).setVariableValue(value).setSelfLink(self + key));
    }
    String path = query.getOrDefault("queryPath", "");
    GuestAttributesValue.Builder items = GuestAttributesValue.newBuilder();
    if (vm != null) {
      vm.guestAttributes.forEach((k, v) -> {
        int slash = k.indexOf('/');
        if (slash > 0 && k.startsWith(path)) {
          items.addItems(GuestAttributesEntry.newBuilder().setNamespace(k.substring(0, slash)).setKey(k.substring(slash + 1)).setValue(v));
        }
      });
    }
    return Reply.json(ga.setQueryPath(path).setQueryValue(items).setSelfLink(self + path));
  }

  /*
   * instances.getSerialPortOutput, from its reference
   * (https://cloud.google.com/compute/docs/reference/rest/v1/instances/getSerialPortOutput): `start`
   * is a byte position; omitted or 0 is the first byte; the buffer keeps the last 1 MB and a `start`
   * in discarded output is moved to the oldest byte still held, which the answer's `start` shows; a
   * negative `start` is that many of the most recent bytes; `next` is the position after the bytes
   * returned. Port 1 carries the console; the emulator has nothing on ports 2-4. A `start` past the
   * end is answered from the end (the reference does not say; an assumption).
   *
   * What port 1 holds is what the instance's startup script wrote to /dev/ttyS0 in its sandboxed run
   * (a file stands in for the port), else what it printed (see console()). The emulator leaves out
   * the kernel and guest agent messages a real console also holds. The script runs once the
   * workload ended, so a running instance's console is empty. A stopped instance's answer is not
   * modelled: the only stopped instances here are preempted ones, whose script never ran.
   */
  private Reply serialPort(String project, String zone, String name, Map<String, String> query) {
    if (view(project, zone, name, true).isEmpty()) {
      return notFound(project, zone, name);
    }
    int port;
    long start;
    try {
      port = Integer.parseInt(query.getOrDefault("port", "1"));
      start = Long.parseLong(query.getOrDefault("start", "0"));
    } catch (NumberFormatException e) {
      return error(400, "invalid", "Invalid value for field 'port' or 'start': '" + query.get("port") + "', '" + query.get("start") + "'");
    }
    if (port < 1 || port > 4) {
      return error(400, "invalid", "Invalid value for field 'port': '" + port + "'. Must be between 1 and 4.");
    }
    Vm vm = vms.get(name);
    ScriptSandbox.Result result = vm == null ? null : vm.result;
    byte[] written = port != 1 || result == null ? new byte[0] : console(result).getBytes(StandardCharsets.UTF_8);
    long total = written.length;
    long oldest = Math.max(0, total - serialBufferBytes);
    long from = start < 0 ? Math.max(oldest, total + start) : Math.max(oldest, Math.min(start, total));
    String contents = new String(written, (int) from, (int) (total - from), StandardCharsets.UTF_8);
    String self = BASE + "projects/" + project + "/zones/" + zone + "/instances/" + name + "/serialPort";
    return Reply.json(SerialPortOutput.newBuilder()
        .setKind("compute#serialPortOutput")
        .setContents(contents)
        .setStart(from)
        .setNext(total)
        .setSelfLink(self)
        .build());
  }

  /**
   * What a sandboxed run put on the first serial port: what it wrote to {@code /dev/ttyS0}, or, for
   * a script that does not, what it printed (standard output, then standard error), as the guest's
   * script runner copies it on images where it does.
   */
  private static String console(ScriptSandbox.Result result) {
    String port = result.file(SERIAL_PORT_1_FILE);
    return port != null ? port : result.stdout() + result.stderr();
  }

  private Reply listMachineTypes(String project, String zone) {
    if (zones.zone(zone).isEmpty()) {
      return zoneNotFound(project, zone);
    }
    String self = BASE + "projects/" + project + "/zones/" + zone + "/machineTypes";
    return Reply.json(MachineTypeList.newBuilder().setKind("compute#machineTypeList").setId(self).setSelfLink(self)
        .addAllItems(zones.machineTypes(zone)));
  }

  private Reply listAcceleratorTypes(String project, String zone) {
    if (zones.zone(zone).isEmpty()) {
      return zoneNotFound(project, zone);
    }
    String self = BASE + "projects/" + project + "/zones/" + zone + "/acceleratorTypes";
    return Reply.json(AcceleratorTypeList.newBuilder().setKind("compute#acceleratorTypeList").setId(self).setSelfLink(self)
        .addAllItems(zones.acceleratorTypes(zone)));
  }

  private static Reply zoneNotFound(String project, String zone) {
    return error(404, "notFound", "The resource 'projects/" + project + "/zones/" + zone + "' was not found");
  }

  private Reply getOperation(String project, String zone, String name) {
    Op op = operations.get(name);
    if (op == null || !op.peek().getZone().endsWith("/zones/" + zone)) {
      return error(404, "notFound", "The resource 'projects/" + project + "/zones/" + zone + "/operations/" + name + "' was not found");
    }
    return Reply.json(op.poll(model.clock().instant()));
  }

  // ---- instance state ---------------------------------------------------------------------------

  /** The server's view of an instance, derived from the model; runs the workload once it ended. */
  private Optional<Instance> view(String project, String zone, String name, boolean runWorkload) {
    Vm vm = vms.get(name);
    if (vm == null || !vm.zone.equals(zone) || !vm.project.equals(project)) {
      return ghost(project, zone, name);
    }
    Optional<SimulatedResource> r = model.find(name);
    if (r.isEmpty()) {
      vms.remove(name, vm);
      return Optional.empty();
    }
    String status;
    switch (r.get().phase()) {
      case PROVISIONING -> status =
          Duration.between(model.clock().instant(), r.get().runningAt()).toMillis() > 150 ? "PROVISIONING" : "STAGING";
      case RUNNING -> status = "RUNNING";
      case EXITED -> {
        if (runWorkload) {
          runOnce(vm, r.get());
        }
        status = "RUNNING";
      }
      default -> {
        if (vm.spot && vm.terminationAction.equals("DELETE")) {
          retire(name, vm);
          return Optional.empty();
        }
        status = "TERMINATED";
      }
    }
    String zoneUrl = BASE + "projects/" + project + "/zones/" + zone;
    Instance.Builder b = vm.inserted.toBuilder()
        .setKind("compute#instance")
        .setId(vm.id)
        .setCreationTimestamp(r.get().createdAt().toString())
        .setZone(zoneUrl)
        .setSelfLink(zoneUrl + "/instances/" + name)
        .setMachineType(zoneUrl + "/machineTypes/" + GceGpuCatalog.lastSegment(vm.inserted.getMachineType()))
        .setStatus(status);
    if (status.equals("TERMINATED")) {
      b.setStatusMessage("Instance was preempted.").setLastStopTimestamp(r.get().endsAt().toString());
    }
    return Optional.of(b.build());
  }

  private Optional<Instance> ghost(String project, String zone, String name) {
    Ghost g = ghosts.get(name);
    if (g == null || !g.zone().equals(zone) || !g.project().equals(project)) {
      return Optional.empty();
    }
    if (!model.clock().instant().isBefore(g.until())) {
      ghosts.remove(name, g);
      return Optional.empty();
    }
    String zoneUrl = BASE + "projects/" + project + "/zones/" + zone;
    return Optional.of(g.inserted().toBuilder()
        .setKind("compute#instance")
        .setZone(zoneUrl)
        .setSelfLink(zoneUrl + "/instances/" + name)
        .setMachineType(zoneUrl + "/machineTypes/" + GceGpuCatalog.lastSegment(g.inserted().getMachineType()))
        .setStatus("PROVISIONING")
        .build());
  }

  private void runOnce(Vm vm, SimulatedResource r) {
    synchronized (vm) {
      if (vm.ran) {
        return;
      }
      vm.ran = true;
      String script = metadata(vm.inserted, "startup-script");
      if (script == null) {
        return;
      }
      // The sandbox stands a file in for the first serial port, as the fake curl stands in for the
      // metadata server: the script must never write to the serial port of the machine running the tests.
      script = script.replace(SERIAL_PORT_1, "\"$SANDBOX\"/" + SERIAL_PORT_1_FILE);
      ScriptSandbox.Result result =
          new ScriptSandbox().fake("curl", FAKE_CURL).timeout(scriptTimeout).run(script, r.exitCode() == null ? 0 : r.exitCode());
      if ("TRUE".equalsIgnoreCase(metadata(vm.inserted, "enable-guest-attributes"))) {
        result.filesUnder("guest-attributes").forEach((k, v) -> vm.guestAttributes.put(k.replace('~', '/'), v));
      }
      vm.result = result;
    }
  }

  private void retire(String name, Vm vm) {
    if (vm.result != null) {
      finished.put(name, vm.result);
    }
    vms.remove(name, vm);
    model.delete(name);
  }

  // ---- operations and errors --------------------------------------------------------------------

  private Operation.Builder newOperation(String project, String zone, String type, String targetPath) {
    String name = "operation-" + model.clock().millis() + "-" + Long.toHexString(ids.incrementAndGet()) + "-" + opSeq.incrementAndGet();
    String zoneUrl = BASE + "projects/" + project + "/zones/" + zone;
    String now = model.clock().instant().toString();
    return Operation.newBuilder()
        .setKind("compute#operation")
        .setId(ids.incrementAndGet())
        .setName(name)
        .setZone(zoneUrl)
        .setOperationType(type)
        .setTargetLink(BASE + targetPath)
        .setStatus(Operation.Status.RUNNING)
        .setProgress(0)
        .setUser("accel-dispatch@emulator")
        .setInsertTime(now)
        .setStartTime(now)
        .setSelfLink(zoneUrl + "/operations/" + name);
  }

  private Operation register(String requestId, Operation running, Operation done, Instant doneAt) {
    operations.put(running.getName(), new Op(running, done, doneAt));
    if (requestId != null) {
      requestIds.put(requestId, running.getName());
    }
    return running;
  }

  private Operation stockoutOperation(Operation.Builder running, Instance in, String project, String zone, GceGpuCatalog.Demand d) {
    String vmType = GceGpuCatalog.lastSegment(in.getMachineType());
    String text = "A " + vmType + " VM instance with " + d.units() + " " + d.acceleratorType()
        + " accelerator(s) is currently unavailable in the " + zone
        + " zone. Alternatively, you can try your request again with a different VM hardware configuration or at a later time."
        + " For more information, see the troubleshooting documentation.";
    Errors e = Errors.newBuilder()
        .setCode("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
        .setMessage("The zone 'projects/" + project + "/zones/" + zone + "' does not have enough resources available to fulfill the request.  '(resource type:compute)'.")
        .addErrorDetails(ErrorDetails.newBuilder().setErrorInfo(ErrorInfo.newBuilder()
            .setReason("resource_availability").setDomain("compute.googleapis.com")
            .putMetadatas("zone", zone).putMetadatas("vmType", vmType)
            .putMetadatas("attachment", d.acceleratorType() + ":" + d.units())
            .putMetadatas("zonesAvailable", "")))
        .addErrorDetails(ErrorDetails.newBuilder().setHelp(Help.newBuilder().addLinks(HelpLink.newBuilder()
            .setDescription("Troubleshooting documentation")
            .setUrl("https://cloud.google.com/compute/docs/resource-error"))))
        .addErrorDetails(ErrorDetails.newBuilder().setLocalizedMessage(LocalizedMessage.newBuilder().setLocale("en-US").setMessage(text)))
        .build();
    Operation.Builder done = running.clone().setStatus(Operation.Status.DONE).setProgress(100)
        .setEndTime(model.clock().instant().toString()).setError(Error.newBuilder().addErrors(e));
    if (stockoutHttpStatus != 0) {
      done.setHttpErrorStatusCode(stockoutHttpStatus).setHttpErrorMessage("SERVICE UNAVAILABLE");
    }
    return done.build();
  }

  /** A DONE operation with one error, and an HTTP error status when {@code httpStatus} is not 0. */
  private Operation failedOperation(Operation.Builder running, String code, String message, int httpStatus) {
    Operation.Builder done = running.clone().setStatus(Operation.Status.DONE).setProgress(100)
        .setEndTime(model.clock().instant().toString())
        .setError(Error.newBuilder().addErrors(Errors.newBuilder().setCode(code).setMessage(message)));
    if (httpStatus != 0) {
      done.setHttpErrorStatusCode(httpStatus).setHttpErrorMessage(httpStatus == 403 ? "FORBIDDEN" : "BAD REQUEST");
    }
    return done.build();
  }

  /**
   * The boot disk's type: the last segment of {@code initializeParams.diskType}, or {@code
   * pd-standard} when it is unset, which is the API's default (compute.proto, AttachedDiskInitializeParams.disk_type).
   */
  private static String bootDiskType(Instance in) {
    return in.getDisksList().stream().filter(dk -> dk.getBoot()).findFirst()
        .map(dk -> dk.getInitializeParams().getDiskType())
        .filter(t -> !t.isEmpty()).map(GceGpuCatalog::lastSegment).orElse("pd-standard");
  }

  private Operation quotaOperation(Operation.Builder running, AllocationDenied denied, String region) {
    Errors e = Errors.newBuilder()
        .setCode("QUOTA_EXCEEDED")
        .setMessage(quotaMessage(denied, region))
        .addErrorDetails(ErrorDetails.newBuilder().setQuotaInfo(quotaInfo(denied, region)))
        .build();
    return running.clone().setStatus(Operation.Status.DONE).setProgress(100).setEndTime(model.clock().instant().toString())
        .setHttpErrorStatusCode(403).setHttpErrorMessage("FORBIDDEN").setError(Error.newBuilder().addErrors(e)).build();
  }

  private static QuotaExceededInfo quotaInfo(AllocationDenied denied, String region) {
    QuotaExceededInfo.Builder q = QuotaExceededInfo.newBuilder()
        .setMetricName("compute.googleapis.com/" + denied.quotaName().toLowerCase(Locale.ROOT))
        .setLimitName(denied.quotaName().replace('_', '-') + "-per-project" + (denied.scope().equals(CloudModel.GLOBAL) ? "" : "-region"))
        .setLimit(denied.limit());
    if (!denied.scope().equals(CloudModel.GLOBAL)) {
      q.putDimensions("region", scopeRegion(denied.scope(), region));
    }
    return q.build();
  }

  /** The region a quota scope (a zone or a region) stands for. */
  private static String scopeRegion(String scope, String instanceRegion) {
    return scope.equals(instanceRegion) ? instanceRegion : region(scope);
  }

  private static String quotaMessage(AllocationDenied denied, String region) {
    String where = denied.scope().equals(CloudModel.GLOBAL) ? "globally" : "in region " + scopeRegion(denied.scope(), region);
    return "Quota '" + denied.quotaName() + "' exceeded.  Limit: " + denied.limit() + " " + where + ".";
  }

  private Reply quotaError(AllocationDenied denied, String region) {
    return error(403, "quotaExceeded", "usageLimits", quotaMessage(denied, region), Map.of());
  }

  private Reply faultReply(Fault f) {
    return switch (f.kind()) {
      case UNAVAILABLE -> error(503, "backendError", "The service is currently unavailable.");
      case INTERNAL -> error(500, "backendError", "Internal error. Please try again or contact Google Support.");
      case DEADLINE_EXCEEDED -> error(504, "deadlineExceeded", "The request timed out. Please try again.");
      case THROTTLED -> {
        Map<String, String> headers = f.retryAfter() == null ? Map.of()
            : Map.of("Retry-After", Long.toString(Math.max(1, (f.retryAfter().toMillis() + 999) / 1000)));
        yield throttle429
            ? error(429, "rateLimitExceeded", "usageLimits", "Too Many Requests", headers)
            : error(403, "rateLimitExceeded", "usageLimits",
                "Rate Limit Exceeded: Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com'.", headers);
      }
      case PERMISSION_DENIED -> error(403, "forbidden", "Required 'compute.instances.create' permission for 'projects/emulated'");
      default -> throw new IllegalStateException("fault " + f.kind() + " is applied elsewhere");
    };
  }

  private static Reply notFound(String project, String zone, String name) {
    return error(404, "notFound", "The resource 'projects/" + project + "/zones/" + zone + "/instances/" + name + "' was not found");
  }

  private static Reply error(int status, String reason, String message) {
    return error(status, reason, "global", message, Map.of());
  }

  /** GCE's error body: {@code {"error":{"code","message","errors":[{"message","domain","reason"}]}}}. */
  private static Reply error(int status, String reason, String domain, String message, Map<String, String> headers) {
    String body = "{\"error\":{\"code\":" + status + ",\"message\":" + jsonString(message)
        + ",\"errors\":[{\"message\":" + jsonString(message) + ",\"domain\":" + jsonString(domain)
        + ",\"reason\":" + jsonString(reason) + "}]}}";
    return new Reply(status, body, headers);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static String metadata(Instance in, String key) {
    return in.getMetadata().getItemsList().stream().filter(i -> i.getKey().equals(key)).map(i -> i.getValue())
        .findFirst().orElse(null);
  }

  private static String region(String zone) {
    int dash = zone.lastIndexOf('-');
    return dash < 0 ? zone : zone.substring(0, dash);
  }

  private static String print(MessageOrBuilder m) {
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      q.put(k, v);
    }
    return q;
  }

  private static String readString(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      return;
    }
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
