package dev.acceldispatch.testkit.emulator.azure;

import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.profile.AzureProfile;
import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonWriter;
import com.azure.resourcemanager.compute.ComputeManager;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.acceldispatch.testkit.cloud.AllocationDenied;
import dev.acceldispatch.testkit.cloud.AllocationRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.StringWriter;
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
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import reactor.netty.resources.ConnectionProvider;

/**
 * A local HTTP emulator of the Azure Resource Manager virtual-machine API (api-version
 * 2025-04-01) that the real {@code azure-resourcemanager-compute} client talks to, driven by a
 * shared {@link CloudModel}.
 *
 * <p>Paths served (subscription and resource group are free-form):
 *
 * <ul>
 *   <li>{@code PUT …/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}} (operation
 *       {@value #OP_PUT}): allocates in the model (pool = the size's GPU type, units = GPUs, quota
 *       names as below) and answers 201 with {@code provisioningState: Creating}
 *       and an {@code Azure-AsyncOperation} header; {@code If-None-Match: *} on an existing VM
 *       answers 412 {@code PreconditionFailed}; a PUT on an existing VM without it updates its
 *       tags (200). A quota refusal is a synchronous 409 {@code OperationNotAllowed} with Azure's
 *       cores-quota message; a capacity refusal is, as configured with {@link #capacityErrors},
 *       either a synchronous 409 or a VM in {@code provisioningState: Failed} whose async
 *       operation ends {@code Failed} with the error, and whose instance view holds
 *       {@code ProvisioningState/failed/<code>}.
 *   <li>{@code GET …/virtualMachines/{vm}[?$expand=instanceView]} ({@value #OP_GET}), {@code GET
 *       …/virtualMachines/{vm}/instanceView} ({@value #OP_INSTANCE_VIEW}), {@code GET
 *       …/virtualMachines} ({@value #OP_LIST}), {@code DELETE …/virtualMachines/{vm}}
 *       ({@value #OP_DELETE}, 202 with {@code Azure-AsyncOperation} and {@code Location}, 204
 *       when missing), and {@code GET /subscriptions/{s}/providers/Microsoft.Compute/locations/
 *       {loc}/operations/{id}} ({@value #OP_OPERATIONS}).
 * </ul>
 *
 * <p>Strict where ARM is (each rule, its source and its test are listed in the testkit README,
 * "Azure rules"): at most {@value #MAX_TAGS} tags on a VM, at its PUT and "at the end of" a {@code
 * PATCH {vm id}/providers/Microsoft.Resources/tags/default} ({@value #OP_TAGS}, Merge, Replace or
 * Delete; 400 {@code InvalidTagCount}); a tag write only by a principal holding Tag Contributor,
 * Contributor or Owner over the VM ({@link #grantRole}; 403 {@code AuthorizationFailed}); Spot VMs
 * count against {@value #QUOTA_LOW_PRIORITY_CORES} only, regular ones against their family quota
 * and {@value #QUOTA_REGIONAL_CORES}; an async operation is {@code InProgress} on its first poll;
 * a DELETE leaves the VM {@code provisioningState: Deleting} for {@link #deleteTime} of model time.
 * All time comes from the model's clock.
 *
 * <p>Errors are ARM's {@code {"error":{"code","message"}}} bodies. Every response carries {@code
 * x-ms-request-id} and the {@code x-ms-ratelimit-remaining-subscription-reads|writes|deletes}
 * header of its ARM token bucket (250 reads refilled at 25/s, 200 writes and 200 deletes at 10/s);
 * an empty bucket answers 429 {@code SubscriptionRequestsThrottled} with {@code Retry-After}.
 * Injected {@link Fault}s map to 503 {@code ServiceUnavailable}, 500 {@code InternalServerError},
 * 504 {@code GatewayTimeout}, 429 with {@code Retry-After} (seconds, rounded up), 403 {@code
 * AuthorizationFailed}; {@code LOSE_RESPONSE} performs the call and then answers 500.
 *
 * <p>Helper resources: a VM's NICs created from {@code networkProfile.networkInterfaceConfigurations}
 * and its managed OS disk are tracked; deleting or evicting the VM deletes those whose {@code
 * deleteOption} is {@code Delete} and leaves the others behind ({@link #helperResources()}).
 *
 * <p>Workloads: when the model says a VM's workload ended, the next read runs the VM's decoded
 * {@code osProfile.customData} once in a {@link ScriptSandbox} with a fake {@code curl} that
 * serves IMDS (a token per identity the VM's PUT declared, and {@code compute/resourceId}) and the
 * tags PATCH: a token whose principal lacks the role gets the 403 (curl {@code -f} exits 22), an
 * authorized one is recorded and applied (with the tag limit) after the run, which is how the exit
 * code the script reported reaches the API. {@code sleep} is recorded, not slept; {@code shutdown}
 * and {@code poweroff} leave the VM {@code PowerState/stopped}. Spot VMs the model preempts are
 * deleted (eviction policy Delete: the VM answers 404) or shown {@code PowerState/deallocated}
 * (policy Deallocate).
 *
 * <p>Clients: {@link #computeManager}, or {@link #pipeline} with {@link #profile}, give the real SDK
 * managers wired to this emulator on an event loop {@link #close()} shuts down.
 */
public final class AzureEmulator implements AutoCloseable {
  /** The api name recorded with every call in the model. */
  public static final String API = "azure";
  /** Operation name of PUT virtualMachines/{vm}. */
  public static final String OP_PUT = "azure.vm.put";
  /** Operation name of GET virtualMachines/{vm}. */
  public static final String OP_GET = "azure.vm.get";
  /** Operation name of GET virtualMachines/{vm}/instanceView. */
  public static final String OP_INSTANCE_VIEW = "azure.vm.instanceView";
  /** Operation name of DELETE virtualMachines/{vm}. */
  public static final String OP_DELETE = "azure.vm.delete";
  /** Operation name of GET virtualMachines (list in a resource group). */
  public static final String OP_LIST = "azure.vm.list";
  /** Operation name of GET of an Azure-AsyncOperation URL. */
  public static final String OP_OPERATIONS = "azure.operations.get";
  /** Operation name of PATCH {scope}/providers/Microsoft.Resources/tags/default (Tags - Update At Scope). */
  public static final String OP_TAGS = "azure.tags.patch";
  /** Built-in role "Tag Contributor" (Azure built-in roles). */
  public static final String ROLE_TAG_CONTRIBUTOR = "4a9ae827-6dc8-4573-8ac7-8239d42aa03f";
  /** Built-in role "Contributor". */
  public static final String ROLE_CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
  /** Built-in role "Owner". */
  public static final String ROLE_OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
  /** The Usages API name of the regional Spot (low-priority) vCPU quota, apart from the family quotas. */
  public static final String QUOTA_LOW_PRIORITY_CORES = "lowPriorityCores";
  /** The Usages API name of the regional total vCPU quota of regular VMs. */
  public static final String QUOTA_REGIONAL_CORES = "cores";
  /** At most 50 tags per resource, "at the end of the operation" (tag-resources.md; Tags - Update At Scope). */
  public static final int MAX_TAGS = 50;

  /** Roles whose actions include {@code Microsoft.Resources/tags/write}. */
  private static final List<String> TAG_WRITE_ROLES = List.of(ROLE_TAG_CONTRIBUTOR, ROLE_CONTRIBUTOR, ROLE_OWNER);

  /** How a capacity refusal reaches the client. */
  public enum Delivery {
    /** A 409 on the PUT itself. */
    SYNC,
    /** A 201 on the PUT, then {@code Failed} in the async operation and on the VM. */
    ASYNC
  }

  /** What the emulator knows of one VM size. */
  private record Size(String name, String pool, int gpus, int vcpus, String quotaFamily, String familyDisplayName) {}

  private static final Pattern VM_PATH =
      Pattern.compile(
          "^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.Compute/virtualMachines(?:/([^/]+))?(/instanceView)?/?$",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern TAGS_PATH =
      Pattern.compile(
          "^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Compute/virtualMachines/([^/]+))/providers/Microsoft\\.Resources/tags/default/?$",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern OP_PATH =
      Pattern.compile(
          "^/subscriptions/([^/]+)/providers/Microsoft\\.Compute/locations/([^/]+)/operations/([^/]+)/?$",
          Pattern.CASE_INSENSITIVE);

  private final CloudModel model;
  private final Map<String, Size> sizes = new ConcurrentHashMap<>();
  private final Map<String, Vm> vms = new LinkedHashMap<>();
  private final Map<String, Op> operations = new ConcurrentHashMap<>();
  private final Map<String, String> helpers = new LinkedHashMap<>();
  private final Map<String, ScriptSandbox.Result> workloads = new ConcurrentHashMap<>();
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile Delivery capacityDelivery = Delivery.ASYNC;
  private volatile String capacityCode = "AllocationFailed";
  private volatile boolean armThrottling = true;
  private volatile Duration deleteTime = Duration.ofSeconds(1);
  private final List<RoleAssignment> roleAssignments = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Map<String, String> tokens = new ConcurrentHashMap<>();
  private HttpServer server;
  private ExecutorService executor;
  private NioEventLoopGroup clientLoop;

  private AzureEmulator(CloudModel model) {
    this.model = Objects.requireNonNull(model, "model");
    size("Standard_ND96isr_H100_v5", "nvidia-h100-80gb", 8, 96, "standardNDSH100v5Family", "Standard NDSH100v5 Family");
    size("Standard_NC40ads_H100_v5", "nvidia-h100-nvl-94gb", 1, 40, "StandardNCadsH100v5Family", "Standard NCadsH100v5 Family");
    size("Standard_NC24ads_A100_v4", "nvidia-a100-80gb", 1, 24, "StandardNCADSA100v4Family", "Standard NCADSA100v4 Family");
    size("Standard_NC4as_T4_v3", "nvidia-t4", 1, 4, "standardNCASv3_T4Family", "Standard NCASv3_T4 Family");
  }

  /** An emulator (not yet started) over {@code model}. */
  public static AzureEmulator create(CloudModel model) {
    return new AzureEmulator(model);
  }

  /**
   * Teaches the emulator a VM size: the model pool it draws from, its GPUs (the model's units),
   * vCPUs (for the cores-quota message) and quota family.
   */
  public AzureEmulator size(String vmSize, String pool, int gpus, int vcpus, String quotaFamily, String familyDisplayName) {
    sizes.put(vmSize.toLowerCase(Locale.ROOT), new Size(vmSize, pool, gpus, vcpus, quotaFamily, familyDisplayName));
    return this;
  }

  /**
   * How capacity refusals are reported: {@code code} is one of {@code AllocationFailed}, {@code
   * ZonalAllocationFailed}, {@code OverconstrainedAllocationRequest}, {@code SkuNotAvailable}.
   * Default: {@code AllocationFailed}, {@link Delivery#ASYNC}.
   */
  public AzureEmulator capacityErrors(String code, Delivery delivery) {
    this.capacityCode = Objects.requireNonNull(code, "code");
    this.capacityDelivery = Objects.requireNonNull(delivery, "delivery");
    return this;
  }

  /** Whether ARM's per-subscription token buckets throttle (default true). */
  public AzureEmulator armThrottling(boolean on) {
    this.armThrottling = on;
    return this;
  }

  /**
   * How long a VM stays {@code provisioningState: Deleting} after its DELETE, in model time, before
   * it answers 404; default 1 s. Its capacity and its NIC and disk last as long.
   */
  public AzureEmulator deleteTime(Duration d) {
    this.deleteTime = Objects.requireNonNull(d, "deleteTime");
    return this;
  }

  /**
   * Assigns {@code roleDefinitionId} (for example {@link #ROLE_TAG_CONTRIBUTOR}) to {@code
   * principal} at {@code scope} (a subscription, resource group or resource id) and below. The
   * principal of a user-assigned identity is its ARM id; that of a system-assigned identity is the
   * {@code identity.principalId} a GET of its VM shows. Without an assignment, a VM's identity may
   * not write tags: the Tags API answers 403 {@code AuthorizationFailed}.
   */
  public AzureEmulator grantRole(String principal, String roleDefinitionId, String scope) {
    roleAssignments.add(new RoleAssignment(
        Objects.requireNonNull(principal, "principal"), Objects.requireNonNull(roleDefinitionId, "roleDefinitionId"),
        Objects.requireNonNull(scope, "scope")));
    return this;
  }

  /** Removes every role assignment. */
  public AzureEmulator clearRoles() {
    roleAssignments.clear();
    return this;
  }

  /** Whether the VM was powered off from inside (its startup script ran {@code shutdown}). */
  public boolean poweredOff(String vmName) {
    Vm vm = live(vmName);
    synchronized (this) {
      return vm != null && vm.poweredOff;
    }
  }

  /**
   * The token IMDS gives {@code principal} (a user-assigned identity's ARM id, or a system-assigned
   * identity's principal id), for calling the Tags API as that identity.
   */
  public String accessToken(String principal) {
    return issueToken(Objects.requireNonNull(principal, "principal"));
  }

  /** Starts serving on an ephemeral port of 127.0.0.1. */
  public synchronized AzureEmulator start() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    AtomicInteger n = new AtomicInteger();
    executor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "azure-emulator-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    return this;
  }

  /**
   * Stops the server and its threads, the event loop of the clients it handed out, and deletes the
   * sandbox directories of the workloads run.
   */
  @Override
  public synchronized void close() {
    if (clientLoop != null) {
      clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      clientLoop = null;
    }
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
      try {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      server = null;
    }
    for (ScriptSandbox.Result r : workloads.values()) {
      deleteTree(r.directory());
    }
    workloads.clear();
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: a temporary directory left behind is harmless
    }
  }

  /** The port served. */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("not started");
    }
    return server.getAddress().getPort();
  }

  /** The ARM endpoint to give the SDK's {@code AzureEnvironment} ({@code resourceManagerEndpointUrl}). */
  public String endpoint() {
    return "http://127.0.0.1:" + port() + "/";
  }

  // ---- ready client wiring ------------------------------------------------------------------------

  /** The profile the SDK's managers take: {@code subscriptionId} at this emulator's ARM endpoint. */
  public AzureProfile profile(String subscriptionId) {
    Map<String, String> endpoints = new HashMap<>(AzureEnvironment.AZURE.getEndpoints());
    endpoints.put("resourceManagerEndpointUrl", endpoint());
    return new AzureProfile("emulator-tenant", Objects.requireNonNull(subscriptionId, "subscriptionId"), new AzureEnvironment(endpoints));
  }

  /**
   * An HTTP pipeline to this emulator: the SDK's Netty client on an event loop this emulator owns
   * ({@link #close()} shuts it down, so a test leaves no client thread), then {@code policies} (for
   * example the provider's retry policy). It has no authentication policy: token credentials demand
   * https and the emulator is plain http; a request without {@code Authorization} acts as the host's
   * own identity (subscription owner).
   */
  public synchronized HttpPipeline pipeline(HttpPipelinePolicy... policies) {
    if (clientLoop == null) {
      clientLoop = new NioEventLoopGroup(2, new DefaultThreadFactory("azure-emulator-client", true));
    }
    HttpClient client = new NettyAsyncHttpClientBuilder()
        .eventLoopGroup(clientLoop)
        .connectionProvider(ConnectionProvider.newConnection())
        .responseTimeout(Duration.ofSeconds(20))
        .build();
    return new HttpPipelineBuilder().httpClient(client).policies(policies).build();
  }

  /** A real {@link ComputeManager} for {@code subscriptionId} on {@link #pipeline(HttpPipelinePolicy...)}. */
  public ComputeManager computeManager(String subscriptionId, HttpPipelinePolicy... policies) {
    return ComputeManager.authenticate(pipeline(policies), profile(subscriptionId));
  }

  /** The model behind the emulator. */
  public CloudModel model() {
    return model;
  }

  /**
   * What the sandboxed run of the VM's custom data showed, once its workload ended; its files last
   * until {@link #close()}.
   */
  public Optional<ScriptSandbox.Result> observedWorkload(String vmName) {
    return Optional.ofNullable(workloads.get(vmName.toLowerCase(Locale.ROOT)));
  }

  /**
   * Helper resources (NICs, OS disks) that exist, by ARM id, with their kind: those of live VMs
   * and those left behind by deleted VMs whose {@code deleteOption} was not {@code Delete}.
   */
  public synchronized Map<String, String> helperResources() {
    return Map.copyOf(helpers);
  }

  /** The tags the emulator holds for a VM, if it exists. */
  public Optional<Map<String, String>> tags(String vmName) {
    Vm vm = live(vmName);
    if (vm == null) {
      return Optional.empty();
    }
    synchronized (this) {
      return Optional.of(Map.copyOf(vm.tags));
    }
  }

  /**
   * Brings every VM up to the model's present (ending the deletes whose time has come) and returns
   * how many exist. State is derived lazily on reads, so a leak check that reads nothing else calls
   * this before counting the model's resources.
   */
  public int existingVms() {
    List<Vm> all;
    synchronized (this) {
      all = new ArrayList<>(vms.values());
    }
    int n = 0;
    for (Vm vm : all) {
      if (refresh(vm)) {
        n++;
      }
    }
    return n;
  }

  /** The VM brought up to the model's present, or null when it does not exist (any more). */
  private Vm live(String vmName) {
    Vm vm;
    synchronized (this) {
      vm = vms.get(vmName.toLowerCase(Locale.ROOT));
    }
    // Never refresh under this emulator's lock: a refresh may run the VM's script, whose tag
    // write takes that lock.
    return vm != null && refresh(vm) ? vm : null;
  }

  /** The decoded custom data a VM was created with, if it exists. */
  public synchronized Optional<String> customData(String vmName) {
    Vm vm = vms.get(vmName.toLowerCase(Locale.ROOT));
    return vm == null ? Optional.empty() : Optional.ofNullable(vm.customData);
  }

  /** The JSON body of the PUT that created a VM (custom data included), if it exists. */
  public synchronized Optional<String> createBody(String vmName) {
    Vm vm = vms.get(vmName.toLowerCase(Locale.ROOT));
    return vm == null ? Optional.empty() : Optional.of(vm.requestJson);
  }

  // ---- state ------------------------------------------------------------------------------------

  private static final class Vm {
    final String key;
    final String name;
    final String subscription;
    final String resourceGroup;
    final String location;
    final String id;
    final String vmId = UUID.randomUUID().toString();
    final Instant created;
    final String requestJson;
    final String customData;
    final boolean spot;
    final String evictionPolicy;
    final Size size;
    final Map<String, String> tags = new LinkedHashMap<>();
    final Map<String, String> helperDeleteOptions = new LinkedHashMap<>();
    final List<String> userAssignedIdentities = new ArrayList<>();
    boolean systemAssigned;
    String failedCode;
    String failedMessage;
    boolean deallocated;
    boolean poweredOff;
    boolean workloadRan;
    Instant deletedAt;

    /** The object id ARM gives a system-assigned identity (derived from the VM id, so stable). */
    String systemPrincipalId() {
      return UUID.nameUUIDFromBytes(id.getBytes(StandardCharsets.UTF_8)).toString();
    }

    Vm(String name, String sub, String rg, String location, String requestJson, String customData, boolean spot,
        String evictionPolicy, Size size, Instant created) {
      this.created = created;
      this.key = name.toLowerCase(Locale.ROOT);
      this.name = name;
      this.subscription = sub;
      this.resourceGroup = rg;
      this.location = location;
      this.id = "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name;
      this.requestJson = requestJson;
      this.customData = customData;
      this.spot = spot;
      this.evictionPolicy = evictionPolicy;
      this.size = size;
    }
  }

  private record Op(String id, String subscription, String location, String vmKey, boolean delete, Instant start, AtomicInteger polls) {
    Op(String id, String subscription, String location, String vmKey, boolean delete, Instant start) {
      this(id, subscription, location, vmKey, delete, start, new AtomicInteger());
    }
  }

  /** A role assignment: {@code principal} holds {@code roleDefinitionId} at {@code scope} and below. */
  private record RoleAssignment(String principal, String roleDefinitionId, String scope) {}

  /** One ARM token bucket. */
  private static final class Bucket {
    final double capacity;
    final double perSecond;
    final java.time.Clock clock;
    double tokens;
    Instant last;

    Bucket(double capacity, double perSecond, java.time.Clock clock) {
      this.capacity = capacity;
      this.perSecond = perSecond;
      this.tokens = capacity;
      this.clock = clock;
      this.last = clock.instant();
    }

    synchronized long take() {
      Instant now = clock.instant();
      tokens = Math.min(capacity, tokens + Math.max(0, Duration.between(last, now).toNanos()) / 1e9 * perSecond);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return -1;
      }
      return (long) Math.ceil((1 - tokens) / perSecond);
    }

    synchronized int remaining() {
      return (int) Math.floor(tokens);
    }
  }

  private Bucket bucket(String kind) {
    return buckets.computeIfAbsent(kind, k -> k.equals("reads") ? new Bucket(250, 25, model.clock()) : new Bucket(200, 10, model.clock()));
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  private record Reply(int status, String body, Map<String, String> headers) {
    static Reply json(int status, String body) {
      return new Reply(status, body, new LinkedHashMap<>());
    }

    Reply header(String k, String v) {
      headers.put(k, v);
      return this;
    }
  }

  private void handle(HttpExchange ex) {
    try (ex) {
      Reply reply;
      String kind = "reads";
      try {
        String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
        kind = method.equals("DELETE") ? "deletes" : method.equals("GET") ? "reads" : "writes";
        reply = route(ex, method, kind);
      } catch (RuntimeException e) {
        reply = error(500, "InternalServerError", "Emulator failure: " + e);
      }
      send(ex, reply, kind);
    } catch (IOException e) {
      // the client went away; nothing to answer
    }
  }

  private Reply route(HttpExchange ex, String method, String kind) throws IOException {
    // The Tags client joins "/" and a scope that starts with "/" itself: "//subscriptions/..."
    // would otherwise parse as a host name.
    java.net.URI uri = java.net.URI.create("http://emulator" + ex.getRequestURI().toString().replaceFirst("^/+", "/"));
    String path = uri.getPath();
    Map<String, String> query = query(uri.getRawQuery());
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Matcher vmPath = VM_PATH.matcher(path);
    Matcher opPath = OP_PATH.matcher(path);
    Matcher tagsPath = TAGS_PATH.matcher(path);
    String op;
    String target;
    if (tagsPath.matches()) {
      if (!method.equals("PATCH")) {
        return error(405, "MethodNotAllowed", "The requested resource does not support http method '" + method + "'.");
      }
      op = OP_TAGS;
      target = tagsPath.group(2);
    } else if (vmPath.matches()) {
      String name = vmPath.group(3);
      boolean iv = vmPath.group(4) != null;
      target = name == null ? vmPath.group(2) : name;
      op = switch (method) {
        case "PUT" -> OP_PUT;
        case "DELETE" -> OP_DELETE;
        case "GET" -> name == null ? OP_LIST : iv ? OP_INSTANCE_VIEW : OP_GET;
        default -> null;
      };
      if (op == null || (name == null && !method.equals("GET")) || (iv && !method.equals("GET"))) {
        return error(405, "MethodNotAllowed", "The requested resource does not support http method '" + method + "'.");
      }
    } else if (opPath.matches() && method.equals("GET")) {
      op = OP_OPERATIONS;
      target = opPath.group(3);
    } else {
      return error(404, "InvalidResourceType", "The resource type could not be found for path '" + path + "'.");
    }
    Map<String, String> details = new LinkedHashMap<>();
    details.put("method", method);
    details.put("path", path);
    Optional<Fault> fault = model.onCall(API, op, target, details);
    sleep(model.latency(op));
    boolean lose = false;
    if (fault.isPresent()) {
      Fault f = fault.get();
      switch (f.kind()) {
        case SLOW -> sleep(f.delay() == null ? Duration.ofSeconds(1) : f.delay());
        case LOSE_RESPONSE -> lose = true;
        default -> {
          return faultReply(f, kind);
        }
      }
    }
    if (armThrottling) {
      long wait = bucket(kind).take();
      if (wait >= 0) {
        return throttled(Math.max(1, wait), kind);
      }
    }
    Reply reply;
    if (op.equals(OP_OPERATIONS)) {
      reply = getOperation(opPath.group(3));
    } else if (op.equals(OP_TAGS)) {
      reply = patchTags(tagsPath.group(2), body, ex.getRequestHeaders().getFirst("Authorization"));
    } else {
      String sub = vmPath.group(1);
      String rg = vmPath.group(2);
      String name = vmPath.group(3);
      reply = switch (op) {
        case OP_PUT -> put(sub, rg, name, body, ex.getRequestHeaders().getFirst("If-None-Match"));
        case OP_DELETE -> delete(sub, rg, name);
        case OP_LIST -> list(rg, "instanceView".equalsIgnoreCase(query.get("$expand")));
        case OP_INSTANCE_VIEW -> instanceView(name);
        default -> get(rg, name, "instanceView".equalsIgnoreCase(query.get("$expand")));
      };
    }
    if (lose) {
      return error(500, "InternalServerError", "Encountered internal server error. The response was lost after the request took effect.");
    }
    return reply;
  }

  private void send(HttpExchange ex, Reply reply, String kind) throws IOException {
    var h = ex.getResponseHeaders();
    h.add("x-ms-request-id", UUID.randomUUID().toString());
    h.add("x-ms-correlation-request-id", UUID.randomUUID().toString());
    h.add("x-ms-ratelimit-remaining-subscription-" + kind, Integer.toString(bucket(kind).remaining()));
    reply.headers().forEach(h::add);
    if (reply.body() == null) {
      ex.sendResponseHeaders(reply.status(), -1);
      return;
    }
    byte[] b = reply.body().getBytes(StandardCharsets.UTF_8);
    h.add("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(reply.status(), b.length);
    ex.getResponseBody().write(b);
  }

  private Reply faultReply(Fault f, String kind) {
    return switch (f.kind()) {
      case UNAVAILABLE -> error(503, "ServiceUnavailable", "The service is currently unavailable. Please try again later.");
      case INTERNAL -> error(500, "InternalServerError", "Encountered internal server error. Diagnostic information: tracking id '" + UUID.randomUUID() + "'.");
      case DEADLINE_EXCEEDED -> error(504, "GatewayTimeout", "The gateway did not receive a response from 'Microsoft.Compute' within the specified time period.");
      case THROTTLED -> {
        Duration ra = f.retryAfter() == null ? Duration.ofSeconds(1) : f.retryAfter();
        yield throttled(Math.max(1, (ra.toMillis() + 999) / 1000), kind);
      }
      case PERMISSION_DENIED -> error(403, "AuthorizationFailed",
          "The client 'accel-dispatch' with object id '00000000-0000-0000-0000-000000000000' does not have authorization to perform this action or the scope is invalid. If access was recently granted, please refresh your credentials.");
      default -> error(500, "InternalServerError", "unexpected fault " + f.kind());
    };
  }

  private Reply throttled(long seconds, String kind) {
    String what = kind.substring(0, kind.length() - 1);
    return error(429, "SubscriptionRequestsThrottled",
            "Number of '" + what + "' requests for subscription exceeded. Please try again after '" + seconds
                + "' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling")
        .header("Retry-After", Long.toString(seconds))
        .header("x-ms-ratelimit-remaining-subscription-" + kind, "0");
  }

  private static Reply error(int status, String code, String message) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("code", code);
    e.put("message", message);
    return Reply.json(status, write(Map.of("error", e)));
  }

  // ---- operations -------------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  private Reply put(String sub, String rg, String name, String body, String ifNoneMatch) {
    Map<String, Object> req;
    try {
      req = (Map<String, Object>) read(body);
    } catch (RuntimeException e) {
      return error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: " + e.getMessage());
    }
    String key = name.toLowerCase(Locale.ROOT);
    synchronized (this) {
      Vm existing = vms.get(key);
      if (existing != null) {
        if ("*".equals(ifNoneMatch)) {
          return error(412, "PreconditionFailed",
              "The resource '" + existing.id + "' already exists and the If-None-Match precondition '*' failed.");
        }
        Object tags = req.get("tags");
        if (tags instanceof Map<?, ?> m) {
          existing.tags.clear();
          m.forEach((k, v) -> existing.tags.put(String.valueOf(k), String.valueOf(v)));
        }
        return Reply.json(200, write(vmJson(existing, false)));
      }
    }
    Map<String, Object> props = map(req.get("properties"));
    String location = String.valueOf(req.getOrDefault("location", ""));
    if (location.isEmpty()) {
      return error(400, "LocationRequired", "The location property is required for this definition.");
    }
    String vmSize = String.valueOf(map(props.get("hardwareProfile")).getOrDefault("vmSize", ""));
    Size size = sizes.get(vmSize.toLowerCase(Locale.ROOT));
    if (size == null) {
      return error(400, "InvalidParameter", "The value " + vmSize + " provided for the VM size is not valid.");
    }
    Map<String, Object> os = map(props.get("osProfile"));
    String customData = null;
    if (os.get("customData") instanceof String cd) {
      try {
        customData = new String(Base64.getDecoder().decode(cd), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return error(400, "InvalidParameter", "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.");
      }
      if (customData.getBytes(StandardCharsets.UTF_8).length > 65535) {
        return error(400, "InvalidParameter", "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.");
      }
    }
    boolean spot = "Spot".equalsIgnoreCase(String.valueOf(props.get("priority")));
    String eviction = props.get("evictionPolicy") == null ? "Deallocate" : String.valueOf(props.get("evictionPolicy"));
    Map<String, String> tags = new LinkedHashMap<>();
    map(req.get("tags")).forEach((k, v) -> tags.put(k, String.valueOf(v)));
    if (tags.size() > MAX_TAGS) {
      return tooManyTags(tags.size());
    }
    Map<String, Object> identity = map(req.get("identity"));
    String identityType = String.valueOf(identity.getOrDefault("type", "None"));
    Map<String, Object> userIdentities = map(identity.get("userAssignedIdentities"));
    if (identityType.contains("UserAssigned") && userIdentities.isEmpty()) {
      return error(400, "InvalidParameter",
          "The value of parameter 'identity.userAssignedIdentities' is invalid: a user-assigned identity type needs at least one identity.");
    }
    Vm vm = new Vm(name, sub, rg, location, body, customData, spot, eviction, size, now());
    vm.tags.putAll(tags);
    vm.systemAssigned = identityType.contains("SystemAssigned");
    vm.userAssignedIdentities.addAll(userIdentities.keySet());
    synchronized (this) {
      if (vms.containsKey(key)) {
        return error(409, "Conflict", "Another operation on this or a dependent resource is in progress.");
      }
      try {
        // Spot VMs count against the regional low-priority vCPU quota only, regular VMs against
        // their family's quota and the regional total (spot-vms.md; Usages API names).
        model.allocate(
            new AllocationRequest(name, location, location, size.pool(), size.gpus(), spot,
                spot ? List.of(QUOTA_LOW_PRIORITY_CORES) : List.of(size.quotaFamily(), QUOTA_REGIONAL_CORES)),
            tags);
      } catch (AllocationDenied d) {
        if (d.reason() == AllocationDenied.Reason.QUOTA) {
          return error(409, "OperationNotAllowed", quotaMessage(size, location, d.limit(), spot, d.quotaName()));
        }
        String msg = capacityMessage(capacityCode, vm);
        if (capacityDelivery == Delivery.SYNC) {
          return error(409, capacityCode, msg);
        }
        vm.failedCode = capacityCode;
        vm.failedMessage = msg;
      }
      registerHelpers(vm, map(props.get("networkProfile")), map(map(props.get("storageProfile")).get("osDisk")));
      vms.put(key, vm);
    }
    Op op = new Op(UUID.randomUUID().toString(), sub, location, key, false, now());
    operations.put(op.id(), op);
    Map<String, Object> json = vmJson(vm, false);
    map(json.get("properties")).put("provisioningState", "Creating");
    return Reply.json(201, write(json)).header("Azure-AsyncOperation", opUrl(op));
  }

  private void registerHelpers(Vm vm, Map<String, Object> network, Map<String, Object> osDisk) {
    Object configs = network.get("networkInterfaceConfigurations");
    if (configs instanceof List<?> list) {
      for (Object o : list) {
        Map<String, Object> c = map(o);
        String nicName = String.valueOf(c.getOrDefault("name", vm.name + "-nic"));
        Map<String, Object> cp = map(c.get("properties"));
        String id = "/subscriptions/" + vm.subscription + "/resourceGroups/" + vm.resourceGroup
            + "/providers/Microsoft.Network/networkInterfaces/" + nicName;
        vm.helperDeleteOptions.put(id, String.valueOf(cp.getOrDefault("deleteOption", "Detach")));
        helpers.put(id, "networkInterface");
      }
    }
    String diskName = String.valueOf(osDisk.getOrDefault("name", vm.name + "_OsDisk_1_" + vm.vmId.replace("-", "")));
    String diskId = "/subscriptions/" + vm.subscription + "/resourceGroups/" + vm.resourceGroup
        + "/providers/Microsoft.Compute/disks/" + diskName;
    vm.helperDeleteOptions.put(diskId, String.valueOf(osDisk.getOrDefault("deleteOption", "Detach")));
    helpers.put(diskId, "disk");
  }

  private Reply get(String rg, String name, boolean expand) {
    Vm vm;
    synchronized (this) {
      vm = vms.get(name.toLowerCase(Locale.ROOT));
    }
    if (vm == null || !refresh(vm)) {
      return notFound(rg, name);
    }
    synchronized (this) {
      return Reply.json(200, write(vmJson(vm, expand)));
    }
  }

  private Reply instanceView(String name) {
    Vm vm;
    synchronized (this) {
      vm = vms.get(name.toLowerCase(Locale.ROOT));
    }
    if (vm == null || !refresh(vm)) {
      return notFound("", name);
    }
    synchronized (this) {
      return Reply.json(200, write(instanceViewJson(vm)));
    }
  }

  private Reply list(String rg, boolean expand) {
    List<Vm> all;
    synchronized (this) {
      all = new ArrayList<>(vms.values());
    }
    List<Object> value = new ArrayList<>();
    for (Vm vm : all) {
      if (vm.resourceGroup.equalsIgnoreCase(rg) && refresh(vm)) {
        synchronized (this) {
          value.add(vmJson(vm, expand));
        }
      }
    }
    return Reply.json(200, write(Map.of("value", value)));
  }

  private Reply delete(String sub, String rg, String name) {
    Vm vm;
    synchronized (this) {
      vm = vms.get(name.toLowerCase(Locale.ROOT));
    }
    if (vm == null || !refresh(vm)) {
      return new Reply(204, null, new LinkedHashMap<>());
    }
    synchronized (this) {
      // ARM deletes in the background: the VM reads provisioningState Deleting (and keeps its
      // capacity, NIC and disk) until deleteTime has passed on the model's clock.
      if (vm.deletedAt == null) {
        vm.deletedAt = now().plus(deleteTime);
      }
    }
    Op op = new Op(UUID.randomUUID().toString(), sub, vm.location, vm.key, true, now());
    operations.put(op.id(), op);
    String url = opUrl(op);
    return new Reply(202, null, new LinkedHashMap<>())
        .header("Azure-AsyncOperation", url)
        .header("Location", url + "&monitor=true")
        .header("Retry-After", "1");
  }

  private Reply getOperation(String id) {
    Op op = operations.get(id);
    if (op == null) {
      return error(404, "ResourceNotFound", "The operation '" + id + "' was not found.");
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", op.id());
    json.put("startTime", op.start().toString());
    Vm vm;
    synchronized (this) {
      vm = vms.get(op.vmKey());
    }
    boolean exists = vm != null && refresh(vm);
    if (op.polls().incrementAndGet() == 1) {
      // ARM's operations are never done when first read: clients must keep polling.
      json.put("status", "InProgress");
      return Reply.json(200, write(json)).header("Retry-After", "1");
    }
    if (op.delete()) {
      if (exists && vm.deletedAt != null) {
        json.put("status", "InProgress");
        return Reply.json(200, write(json)).header("Retry-After", "1");
      }
      json.put("status", "Succeeded");
      json.put("endTime", now().toString());
      return Reply.json(200, write(json));
    }
    if (!exists) {
      json.put("status", "Canceled");
      json.put("endTime", now().toString());
      json.put("error", Map.of("code", "OperationPreempted", "message", "Operation execution has been preempted by a more recent operation."));
    } else if (vm.failedCode != null) {
      json.put("status", "Failed");
      json.put("endTime", now().toString());
      json.put("error", Map.of("code", vm.failedCode, "message", vm.failedMessage));
    } else {
      Optional<SimulatedResource> r = model.find(vm.name);
      if (r.isPresent() && r.get().phase() == SimulatedResource.Phase.PROVISIONING) {
        json.put("status", "InProgress");
        return Reply.json(200, write(json)).header("Retry-After", "1");
      }
      json.put("status", "Succeeded");
      json.put("endTime", now().toString());
    }
    return Reply.json(200, write(json));
  }

  private Reply notFound(String rg, String name) {
    return error(404, "ResourceNotFound",
        "The Resource 'Microsoft.Compute/virtualMachines/" + name + "' under resource group '" + rg
            + "' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");
  }

  // ---- lazily derived state ---------------------------------------------------------------------

  /** Brings a VM up to the model's present; false when it no longer exists (evicted, deleted). */
  private boolean refresh(Vm vm) {
    if (vm.deletedAt != null && !now().isBefore(vm.deletedAt)) {
      synchronized (this) {
        remove(vm);
      }
      return false;
    }
    if (vm.failedCode != null || vm.deletedAt != null) {
      return true;
    }
    Optional<SimulatedResource> found = model.find(vm.name);
    if (found.isEmpty()) {
      synchronized (this) {
        remove(vm);
      }
      return false;
    }
    SimulatedResource r = found.get();
    if (r.phase() == SimulatedResource.Phase.PREEMPTED) {
      if (vm.spot && vm.evictionPolicy.equalsIgnoreCase("Delete")) {
        synchronized (this) {
          remove(vm);
        }
        return false;
      }
      vm.deallocated = true;
    } else if (r.phase() == SimulatedResource.Phase.EXITED) {
      runWorkloadOnce(vm, r.exitCode() == null ? 0 : r.exitCode());
    }
    return true;
  }

  private void remove(Vm vm) {
    if (vms.get(vm.key) == vm) {
      vms.remove(vm.key);
    }
    model.delete(vm.name);
    vm.helperDeleteOptions.forEach(
        (id, option) -> {
          if (option.equalsIgnoreCase("Delete")) {
            helpers.remove(id);
          }
        });
  }

  private void runWorkloadOnce(Vm vm, int containerExitCode) {
    synchronized (vm) {
      if (vm.workloadRan) {
        return;
      }
      vm.workloadRan = true;
      if (vm.customData == null) {
        return;
      }
      // Tokens IMDS hands this VM, one per identity it holds, and those whose principal may write
      // tags on it: the fake curl answers the tag write with ARM's 403 for any other token.
      Map<String, String> identityTokens = new LinkedHashMap<>();
      for (String uai : vm.userAssignedIdentities) {
        identityTokens.put(uai, issueToken(uai));
      }
      String systemToken = vm.systemAssigned ? issueToken(vm.systemPrincipalId()) : null;
      List<String> authorized = new ArrayList<>();
      identityTokens.forEach((principal, token) -> {
        if (mayWriteTags(principal, vm.id)) {
          authorized.add(token);
        }
      });
      if (systemToken != null && mayWriteTags(vm.systemPrincipalId(), vm.id)) {
        authorized.add(systemToken);
      }
      ScriptSandbox.Result result = new ScriptSandbox()
          .fake("curl", fakeCurl(vm, identityTokens, systemToken, authorized))
          // The reporter backs off for minutes between tries; the model's time is not the
          // sandbox's, so sleeps are recorded, not slept.
          .fake("sleep", "printf '%s\\n' \"$*\" >> \"$SANDBOX/sleep.log\"")
          .fake("shutdown", "printf 'shutdown %s\\n' \"$*\" >> \"$SANDBOX/poweroff\"")
          .fake("poweroff", "printf 'poweroff %s\\n' \"$*\" >> \"$SANDBOX/poweroff\"")
          .run(vm.customData, containerExitCode);
      workloads.put(vm.key, result);
      String url = result.file("tags-patch.url");
      String patch = result.file("tags-patch.json");
      if (url != null && patch != null && url.contains(vm.id + "/providers/Microsoft.Resources/tags/default")) {
        try {
          applyTagPatch(vm, map(read(patch)));
        } catch (RuntimeException e) {
          // a malformed PATCH body is rejected by ARM: no tag is written
        }
      }
      if (result.file("poweroff") != null) {
        synchronized (this) {
          vm.poweredOff = true;
        }
      }
    }
  }

  private String issueToken(String principal) {
    String token = "emulator-token-" + UUID.randomUUID();
    tokens.put(token, principal);
    return token;
  }

  /** Whether {@code principal} holds a role with {@code Microsoft.Resources/tags/write} over {@code resourceId}. */
  private boolean mayWriteTags(String principal, String resourceId) {
    String target = resourceId.toLowerCase(Locale.ROOT);
    for (RoleAssignment a : roleAssignments) {
      String scope = a.scope().toLowerCase(Locale.ROOT).replaceAll("/+$", "");
      boolean covers = target.equals(scope) || target.startsWith(scope + "/");
      if (covers && a.principal().equalsIgnoreCase(principal) && TAG_WRITE_ROLES.contains(a.roleDefinitionId().toLowerCase(Locale.ROOT))) {
        return true;
      }
    }
    return false;
  }

  /** Tags - Update At Scope on a VM, over HTTP; no Authorization header is the host's own (owner) identity. */
  private Reply patchTags(String vmName, String body, String authorization) {
    Vm vm;
    synchronized (this) {
      vm = vms.get(vmName.toLowerCase(Locale.ROOT));
    }
    if (vm == null || !refresh(vm)) {
      return notFound("", vmName);
    }
    if (authorization != null) {
      String token = authorization.replaceFirst("(?i)^Bearer\\s+", "");
      String principal = tokens.get(token);
      if (principal == null) {
        return error(401, "InvalidAuthenticationToken", "The access token is invalid.");
      }
      if (!mayWriteTags(principal, vm.id)) {
        return authorizationFailed(principal, vm.id);
      }
    }
    Map<String, Object> patch;
    try {
      patch = map(read(body));
    } catch (RuntimeException e) {
      return error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: " + e.getMessage());
    }
    return applyTagPatch(vm, patch);
  }

  /** Applies a Merge, Replace or Delete of tags, refusing a result of more than {@value #MAX_TAGS} tags. */
  private Reply applyTagPatch(Vm vm, Map<String, Object> patch) {
    String operation = String.valueOf(patch.getOrDefault("operation", ""));
    Map<String, Object> given = map(map(patch.get("properties")).get("tags"));
    synchronized (this) {
      Map<String, String> after = new LinkedHashMap<>(vm.tags);
      switch (operation) {
        case "Replace" -> {
          after.clear();
          given.forEach((k, v) -> after.put(k, String.valueOf(v)));
        }
        case "Delete" -> given.keySet().forEach(k -> after.keySet().removeIf(x -> x.equalsIgnoreCase(k)));
        case "Merge" -> given.forEach((k, v) -> {
          after.keySet().removeIf(x -> x.equalsIgnoreCase(k));
          after.put(k, String.valueOf(v));
        });
        default -> {
          return error(400, "InvalidRequestContent", "The 'operation' must be one of Merge, Replace, Delete; got '" + operation + "'.");
        }
      }
      if (after.size() > MAX_TAGS) {
        return tooManyTags(after.size());
      }
      vm.tags.clear();
      vm.tags.putAll(after);
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("id", vm.id + "/providers/Microsoft.Resources/tags/default");
      json.put("name", "default");
      json.put("type", "Microsoft.Resources/tags");
      json.put("properties", Map.of("tags", new LinkedHashMap<>(after)));
      return Reply.json(200, write(json));
    }
  }

  private static Reply tooManyTags(int count) {
    return error(400, "InvalidTagCount", "The resource would have " + count + " tags at the end of the operation;"
        + " a resource can have at most " + MAX_TAGS + " tags.");
  }

  private static Reply authorizationFailed(String principal, String vmId) {
    return error(403, "AuthorizationFailed", authorizationFailedMessage(principal, vmId));
  }

  private static String authorizationFailedMessage(String principal, String vmId) {
    return "The client '" + principal + "' with object id '" + principal + "' does not have authorization to perform action"
        + " 'Microsoft.Resources/tags/write' over scope '" + vmId + "/providers/Microsoft.Resources/tags/default'"
        + " or the scope is invalid. If access was recently granted, please refresh your credentials.";
  }

  /**
   * A fake curl serving IMDS for one VM (a token per identity, {@code compute/resourceId}) and the
   * ARM tags PATCH: a token whose principal lacks the role gets ARM's 403 (curl {@code -f} exits
   * 22); an authorized PATCH is recorded and applied after the run.
   */
  private static String fakeCurl(Vm vm, Map<String, String> identityTokens, String systemToken, List<String> authorized) {
    List<String> lines = new ArrayList<>(List.of(
        "url=''; data=''; method=GET; token=''",
        "while [ $# -gt 0 ]; do",
        "  case \"$1\" in",
        "    -X|--request) method=\"$2\"; shift 2 ;;",
        "    -d|--data|--data-raw|--data-binary) data=\"$2\"; method=${method:-POST}; shift 2 ;;",
        "    -H|--header) case \"$2\" in 'Authorization: Bearer '*) token=\"${2#Authorization: Bearer }\" ;; esac; shift 2 ;;",
        "    -o|--output|-m|--max-time|--retry|--retry-delay|--connect-timeout|-w) shift 2 ;;",
        "    -*) shift ;;",
        "    *) url=\"$1\"; shift ;;",
        "  esac",
        "done",
        "printf '%s %s\\n' \"$method\" \"$url\" >> \"$SANDBOX/curl.log\"",
        "token_for() { printf '{\"access_token\":\"%s\",\"expires_in\":\"3599\",\"token_type\":\"Bearer\"}' \"$1\"; }",
        "case \"$url\" in"));
    for (Map.Entry<String, String> e : identityTokens.entrySet()) {
      String raw = shQuote("msi_res_id=" + e.getKey());
      String encoded = shQuote("msi_res_id=" + java.net.URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8));
      lines.add("  http://169.254.169.254/metadata/identity/oauth2/token*" + encoded + "*|"
          + "http://169.254.169.254/metadata/identity/oauth2/token*" + raw + "*)");
      lines.add("    token_for " + shQuote(e.getValue()) + " ;;");
    }
    String defaultToken = systemToken != null ? systemToken : identityTokens.size() == 1 ? identityTokens.values().iterator().next() : null;
    lines.add("  http://169.254.169.254/metadata/identity/oauth2/token*msi_res_id=*|http://169.254.169.254/metadata/identity/oauth2/token*client_id=*)");
    lines.add("    echo 'curl: (22) The requested URL returned error: 400 (Identity not found)' >&2; exit 22 ;;");
    lines.add("  http://169.254.169.254/metadata/identity/oauth2/token*)");
    lines.add(defaultToken == null
        ? "    echo 'curl: (22) The requested URL returned error: 400 (Identity not found)' >&2; exit 22 ;;"
        : "    token_for " + shQuote(defaultToken) + " ;;");
    lines.add("  http://169.254.169.254/metadata/instance/compute/resourceId*)");
    lines.add("    printf '%s' " + shQuote(vm.id) + " ;;");
    lines.add("  */providers/Microsoft.Resources/tags/default*)");
    lines.add("    [ \"$method\" = PATCH ] || { echo 'curl: (22) The requested URL returned error: 405' >&2; exit 22; }");
    lines.add("    case " + shQuote(" " + String.join(" ", authorized) + " ") + " in");
    lines.add("      *\" $token \"*) ;;");
    lines.add("      *) printf '%s' " + shQuote(write(Map.of("error", Map.of("code", "AuthorizationFailed",
        "message", authorizationFailedMessage("<the VM's identity>", vm.id))))) + " > \"$SANDBOX/tags-refused.json\"");
    lines.add("         echo 'curl: (22) The requested URL returned error: 403' >&2; exit 22 ;;");
    lines.add("    esac");
    lines.add("    printf '%s' \"$data\" > \"$SANDBOX/tags-patch.json\"");
    lines.add("    printf '%s' \"$url\" > \"$SANDBOX/tags-patch.url\"");
    lines.add("    printf '%s' '{\"properties\":{\"tags\":{}}}' ;;");
    lines.add("  *) echo \"curl: (6) Could not resolve host: $url\" >&2; exit 6 ;;");
    lines.add("esac");
    return String.join("\n", lines);
  }

  /** One single-quoted shell word. */
  private static String shQuote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  // ---- JSON shapes ------------------------------------------------------------------------------

  private Map<String, Object> vmJson(Vm vm, boolean expand) {
    Map<String, Object> req = map(read(vm.requestJson));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", vm.name);
    json.put("id", vm.id);
    json.put("type", "Microsoft.Compute/virtualMachines");
    json.put("location", vm.location);
    if (!vm.tags.isEmpty()) {
      json.put("tags", new LinkedHashMap<>(vm.tags));
    }
    if (req.get("zones") != null) {
      json.put("zones", req.get("zones"));
    }
    if (req.get("identity") != null) {
      Map<String, Object> identity = new LinkedHashMap<>(map(req.get("identity")));
      if (String.valueOf(identity.get("type")).contains("SystemAssigned")) {
        identity.put("principalId", vm.systemPrincipalId());
        identity.put("tenantId", "00000000-0000-0000-0000-000000000000");
      }
      json.put("identity", identity);
    }
    Map<String, Object> props = new LinkedHashMap<>(map(req.get("properties")));
    Map<String, Object> os = new LinkedHashMap<>(map(props.get("osProfile")));
    os.remove("customData"); // ARM never returns custom data
    os.remove("adminPassword");
    if (!os.isEmpty()) {
      props.put("osProfile", os);
    }
    props.put("vmId", vm.vmId);
    props.put("timeCreated", vm.created.toString());
    props.put("provisioningState", provisioningState(vm));
    if (expand) {
      props.put("instanceView", instanceViewJson(vm));
    }
    json.put("properties", props);
    return json;
  }

  private String provisioningState(Vm vm) {
    if (vm.deletedAt != null) {
      return "Deleting";
    }
    if (vm.failedCode != null) {
      return "Failed";
    }
    Optional<SimulatedResource> r = model.find(vm.name);
    return r.isPresent() && r.get().phase() == SimulatedResource.Phase.PROVISIONING ? "Creating" : "Succeeded";
  }

  private Map<String, Object> instanceViewJson(Vm vm) {
    List<Object> statuses = new ArrayList<>();
    String ps = provisioningState(vm);
    String now = now().toString();
    if (vm.failedCode != null) {
      statuses.add(status("ProvisioningState/failed/" + vm.failedCode, "Error", "Provisioning failed", vm.failedMessage, now));
    } else if (ps.equals("Deleting")) {
      statuses.add(status("ProvisioningState/deleting", "Info", "Deleting", null, null));
      statuses.add(status("PowerState/stopping", "Info", "VM stopping", null, null));
    } else if (ps.equals("Creating")) {
      statuses.add(status("ProvisioningState/creating", "Info", "Creating", null, null));
      statuses.add(status("PowerState/starting", "Info", "VM starting", null, null));
    } else {
      statuses.add(status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", null, now));
      statuses.add(vm.deallocated
          ? status("PowerState/deallocated", "Info", "VM deallocated", null, null)
          : vm.poweredOff
              // A guest shutdown leaves the VM allocated (and billed): "Stopped", not deallocated.
              ? status("PowerState/stopped", "Info", "VM stopped", null, null)
              : status("PowerState/running", "Info", "VM running", null, null));
    }
    Map<String, Object> iv = new LinkedHashMap<>();
    iv.put("computerName", vm.name);
    iv.put("osName", "ubuntu");
    iv.put("statuses", statuses);
    return iv;
  }

  private static Map<String, Object> status(String code, String level, String display, String message, String time) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("code", code);
    s.put("level", level);
    s.put("displayStatus", display);
    if (message != null) {
      s.put("message", message);
    }
    if (time != null) {
      s.put("time", time);
    }
    return s;
  }

  private String quotaMessage(Size size, String location, double limitUnits, boolean spot, String quotaName) {
    double coresPerUnit = (double) size.vcpus() / size.gpus();
    long limit = Math.round(limitUnits * coresPerUnit);
    long usage;
    synchronized (this) {
      usage = vms.values().stream()
          .filter(v -> v.failedCode == null && v.location.equalsIgnoreCase(location) && v.spot == spot
              && (spot || quotaName.equals(QUOTA_REGIONAL_CORES) || v.size.quotaFamily().equals(size.quotaFamily())))
          .mapToLong(v -> v.size.vcpus())
          .sum();
    }
    String quota = spot ? "LowPriorityCores" : quotaName.equals(QUOTA_REGIONAL_CORES) ? "Total Regional Cores" : size.familyDisplayName() + " Cores";
    return "Operation could not be completed as it results in exceeding approved " + quota
        + " quota. Additional details - Deployment Model: Resource Manager, Location: " + location
        + ", Current Limit: " + limit + ", Current Usage: " + usage + ", Additional Required: " + size.vcpus()
        + ", (Minimum) New Limit Required: " + (usage + size.vcpus())
        + ". Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView"
        + " by specifying parameters listed in the 'Details' section for deployment to succeed."
        + " Please read more about quota limits at https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests";
  }

  private static String capacityMessage(String code, Vm vm) {
    return switch (code) {
      case "ZonalAllocationFailed" -> "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone."
          + " Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance";
      case "OverconstrainedAllocationRequest" -> "Allocation failed. VM(s) with the following constraints cannot be allocated,"
          + " because the condition is too restrictive. Please remove some constraints and try again."
          + " Constraints applied are: - Networking Constraints (such as Accelerated Networking or IPv6) - VM Size";
      case "SkuNotAvailable" -> "The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: "
          + vm.size.name() + "' is currently not available in location '" + vm.location
          + "'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.";
      default -> "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."
          + " Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance";
    };
  }

  private String opUrl(Op op) {
    return endpoint() + "subscriptions/" + op.subscription() + "/providers/Microsoft.Compute/locations/" + op.location()
        + "/operations/" + op.id() + "?api-version=2025-04-01";
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private Instant now() {
    return model.clock().instant();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : new LinkedHashMap<>();
  }

  private static Object read(String json) {
    try (JsonReader r = JsonProviders.createReader(json)) {
      r.nextToken();
      return r.readUntyped();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String write(Object o) {
    StringWriter out = new StringWriter();
    try (JsonWriter w = JsonProviders.createWriter(out)) {
      w.writeUntyped(o);
      w.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw == null) {
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
