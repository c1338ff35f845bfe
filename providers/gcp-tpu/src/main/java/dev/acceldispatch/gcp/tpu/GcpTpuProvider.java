package dev.acceldispatch.gcp.tpu;

import com.google.api.gax.grpc.GrpcCallContext;
import com.google.api.gax.httpjson.HttpJsonCallContext;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.ApiCallContext;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.tpu.v2.CreateQueuedResourceRequest;
import com.google.cloud.tpu.v2.DeleteQueuedResourceRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesRequest;
import com.google.cloud.tpu.v2.GetGuestAttributesResponse;
import com.google.cloud.tpu.v2.GetNodeRequest;
import com.google.cloud.tpu.v2.GetQueuedResourceRequest;
import com.google.cloud.tpu.v2.GuestAttributes;
import com.google.cloud.tpu.v2.GuestAttributesEntry;
import com.google.cloud.tpu.v2.ListQueuedResourcesRequest;
import com.google.cloud.tpu.v2.ListQueuedResourcesResponse;
import com.google.cloud.tpu.v2.NetworkConfig;
import com.google.cloud.tpu.v2.Node;
import com.google.cloud.tpu.v2.QueuedResource;
import com.google.cloud.tpu.v2.QueuedResourceState;
import com.google.cloud.tpu.v2.SchedulingConfig;
import com.google.cloud.tpu.v2.ServiceAccount;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import com.google.longrunning.Operation;
import com.google.protobuf.Timestamp;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.Secret;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.StartupScript;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs on Google Cloud TPU v5e slices (v5litepod-1 to v5litepod-256), on demand or spot,
 * through Cloud TPU API v2 queued resources and the official {@link TpuClient}.
 *
 * <pre>{@code
 * TpuClient tpu = TpuClient.create();   // Application Default Credentials
 * Provider p = GcpTpuProvider.builder(tpu).project("my-project").zones("us-west4-a", "us-central1-a").build();
 * }</pre>
 *
 * <p>How it uses the API:
 *
 * <ul>
 *   <li>{@code provision} sends one {@code CreateQueuedResource} named after the engine's resource
 *       name (queued resource id = node id), with a request id derived from the project, zone and
 *       name (so a retry after a lost response is answered with the original operation), the
 *       slice's accelerator type, the runtime version, network config, the sanitised labels, the
 *       spot tier for spot offers, a {@code valid_until_time} queueing policy from the start
 *       deadline, and the startup script in node metadata {@code startup-script} (with {@code
 *       enable-guest-attributes=TRUE}). It returns when the API accepted the request; it does not
 *       wait for the long-running operation. A queued resource of that id that already exists is
 *       adopted.
 *   <li>{@code status} reads the queued resource, then (when ACTIVE) the node and its guest
 *       attributes. CREATING/ACCEPTED/WAITING_FOR_RESOURCES/PROVISIONING are pending; ACTIVE with a
 *       READY node and every worker's endpoint is running; the exit code the startup script wrote
 *       to guest attribute {@value #GUEST_NAMESPACE}/{@value #EXIT_CODE_KEY} on every worker ends
 *       it; SUSPENDING/SUSPENDED by the service, a PREEMPTED/TERMINATED/REPAIRING node, or a
 *       missing worker is a preemption of the whole slice; FAILED goes through the error taxonomy
 *       (RESOURCE_EXHAUSTED = capacity, quota or throttling); not found is gone.
 *   <li>{@code release} deletes the queued resource with {@code force=true}; not found is success.
 *   <li>{@code listOwned} lists the queued resources of every configured zone and keeps those whose
 *       node carries this fleet's label.
 * </ul>
 *
 * <p>Multi-host slices (16 chips and up) have one worker host per 8 chips.
 *
 * <p>Every call is bounded by {@link Builder#callTimeout} and made without the SDK's own retries
 * (the engine retries). Credentials are the host's: a client it built, or settings it passed (by
 * default Application Default Credentials); this class never reads credentials itself.
 *
 * <p>Least permissions for the identity: {@code tpu.queuedResources.create/get/list/delete},
 * {@code tpu.nodes.get}, {@code tpu.nodes.create/delete} (used by the queued resource on your
 * behalf), {@code iam.serviceAccounts.actAs} on the node's service account.
 */
public final class GcpTpuProvider implements Provider, AutoCloseable {
  /** The default provider id, also the provider column of the built-in price catalog. */
  public static final String DEFAULT_ID = "gcp-tpu";
  /** The default TPU VM runtime for v5e. */
  public static final String DEFAULT_RUNTIME_VERSION = "v2-alpha-tpuv5-lite";
  /** The price catalog SKU: price per v5e chip-hour. */
  public static final String PRICE_SKU = "tpu-v5e-chip";
  /** The guest attribute namespace the startup script writes. */
  public static final String GUEST_NAMESPACE = "accel-dispatch";
  /** The guest attribute key holding the workload's exit code. */
  public static final String EXIT_CODE_KEY = "exit-code";
  /** Every v5e slice size, in chips. */
  public static final List<Integer> SLICE_CHIPS = List.of(1, 4, 8, 16, 32, 64, 128, 256);
  /** Chips per worker host of a multi-host slice. */
  static final int CHIPS_PER_HOST = 8;

  private static final Logger LOG = LoggerFactory.getLogger(GcpTpuProvider.class);
  private static final Pattern ZONE = Pattern.compile("[a-z]+-[a-z]+[0-9]+-[a-z]");
  private static final Pattern ACCELERATOR = Pattern.compile("v5litepod-([0-9]+)");

  private final TpuClient client;
  private final boolean ownsClient;
  private final String id;
  private final String project;
  private final List<String> zones;
  private final String runtimeVersion;
  private final String network;
  private final String subnetwork;
  private final boolean externalIps;
  private final String serviceAccount;
  private final Function<String, String> secretFetcher;
  private final List<String> dockerArgs;
  private final Duration callTimeout;
  private final ProviderLimits limits;
  private final List<Offer> offers;
  private final boolean httpJson;

  private GcpTpuProvider(Builder b, TpuClient client, boolean ownsClient) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.id = b.id;
    this.project = b.project;
    this.zones = List.copyOf(b.zones);
    this.runtimeVersion = b.runtimeVersion;
    this.network = b.network;
    this.subnetwork = b.subnetwork;
    this.externalIps = b.externalIps;
    this.serviceAccount = b.serviceAccount;
    this.secretFetcher = b.secretFetcher;
    this.dockerArgs = List.copyOf(b.dockerArgs);
    this.callTimeout = b.callTimeout;
    this.limits = b.limits;
    this.httpJson = client.getSettings().getTransportChannelProvider().getTransportName().contains("http");
    List<Offer> list = new ArrayList<>();
    for (String zone : zones) {
      String region = region(zone);
      PriceCatalog.Prices perChip = b.prices.find(id, PRICE_SKU, region)
          .or(() -> b.prices.find(DEFAULT_ID, PRICE_SKU, region))
          .orElseThrow(() -> new IllegalArgumentException(
              "prices: no price for sku '" + PRICE_SKU + "' of provider '" + id + "' in region '" + region + "'"));
      for (int chips : b.slices) {
        Money spot = perChip.spot() == null ? null : perChip.spot().times(chips);
        list.add(Offer.of(id, region, zone, Shapes.tpuV5e(chips), acceleratorType(chips), perChip.onDemand().times(chips), spot));
      }
    }
    this.offers = List.copyOf(list);
  }

  /** A builder for a provider using the host's own client (which the host keeps and closes). */
  public static Builder builder(TpuClient client) {
    return new Builder(Objects.requireNonNull(client, "client"), null);
  }

  /**
   * A builder for a provider that creates its own client from {@code settings} (and closes it in
   * {@link #close()}); for example {@code TpuSettings.newBuilder().build()} for Application Default
   * Credentials.
   */
  public static Builder builder(TpuSettings settings) {
    return new Builder(null, Objects.requireNonNull(settings, "settings"));
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public List<Offer> offers() {
    return offers;
  }

  @Override
  public ProviderLimits limits() {
    return limits;
  }

  // ---- provision --------------------------------------------------------------------------------

  @Override
  public ProvisionedResource provision(ProvisionRequest r) {
    Offer offer = r.offer();
    String zone = offer.zone();
    if (!offer.providerId().equals(id) || !zones.contains(zone)) {
      throw new ProviderException.InvalidRequest(id, zone, "INVALID_OFFER",
          "offer " + offer.key() + " is not one of provider " + id + "'s offers (zones " + zones + ")", null);
    }
    int chips = chips(offer.machineType());
    if (chips < 0) {
      throw new ProviderException.InvalidRequest(id, zone, "INVALID_OFFER",
          "machine type '" + offer.machineType() + "' is not a v5e slice (v5litepod-N)", null);
    }
    String script;
    try {
      StartupScript.Builder s = StartupScript.forWorkload(r.workload())
          .machineResolves(Secret.Kind.GOOGLE_SECRET_MANAGER)
          .dockerArgs(dockerArgs.toArray(String[]::new))
          .exitReporter(exitReporter());
      if (secretFetcher != null) {
        s.secretFetcher(secretFetcher);
      }
      script = s.build();
    } catch (IllegalArgumentException e) {
      // The message names the variables, never their values.
      throw new ProviderException.InvalidRequest(id, zone, "SECRETS_UNSUPPORTED", e.getMessage(), null);
    }
    String parent = parent(zone);
    Node.Builder node = Node.newBuilder()
        .setAcceleratorType(offer.machineType())
        .setRuntimeVersion(runtimeVersion)
        .putAllLabels(GcpLabels.sanitize(r.ownershipLabels(), r.labels()))
        .putMetadata("startup-script", script)
        .putMetadata("enable-guest-attributes", "TRUE");
    NetworkConfig.Builder net = NetworkConfig.newBuilder().setEnableExternalIps(externalIps);
    if (network != null) {
      net.setNetwork(network);
    }
    if (subnetwork != null) {
      net.setSubnetwork(subnetwork);
    }
    node.setNetworkConfig(net);
    if (serviceAccount != null) {
      node.setServiceAccount(ServiceAccount.newBuilder().setEmail(serviceAccount)
          .addScope("https://www.googleapis.com/auth/cloud-platform"));
    }
    if (r.spot()) {
      node.setSchedulingConfig(SchedulingConfig.newBuilder().setSpot(true));
    }
    QueuedResource.Builder qr = QueuedResource.newBuilder()
        .setTpu(QueuedResource.Tpu.newBuilder().addNodeSpec(
            QueuedResource.Tpu.NodeSpec.newBuilder().setParent(parent).setNodeId(r.resourceName()).setNode(node)));
    if (r.spot()) {
      qr.setSpot(QueuedResource.Spot.getDefaultInstance());
    }
    if (r.startDeadline() != null) {
      qr.setQueueingPolicy(QueuedResource.QueueingPolicy.newBuilder().setValidUntilTime(
          Timestamp.newBuilder().setSeconds(r.startDeadline().getEpochSecond()).setNanos(r.startDeadline().getNano())));
    }
    CreateQueuedResourceRequest req = CreateQueuedResourceRequest.newBuilder()
        .setParent(parent)
        .setQueuedResourceId(r.resourceName())
        .setQueuedResource(qr)
        .setRequestId(createRequestId(zone, r.resourceName()))
        .build();
    ProvisionedResource res = resource(r.resourceName(), zone, offer.machineType());
    try {
      Operation op = call(zone, () -> client.createQueuedResourceCallable().call(req, context()));
      if (op.getDone() && op.hasError()) {
        throw TpuErrors.fromStatus(id, zone, op.getError());
      }
      LOG.info("created queued resource {} ({}{}) in {}", r.resourceName(), offer.machineType(), r.spot() ? ", spot" : "", zone);
    } catch (ProviderException.InvalidRequest e) {
      if (!"ALREADY_EXISTS".equals(e.cloudCode())) {
        throw e;
      }
      LOG.info("queued resource {} already exists in {}: adopting it", r.resourceName(), zone);
    }
    return res;
  }

  /** The startup script's last line: PUT the exit code into this worker's guest attributes. */
  static String exitReporter() {
    return "curl -s -X PUT --data \"$rc\" -H 'Metadata-Flavor: Google' "
        + "'http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/" + GUEST_NAMESPACE + "/"
        + EXIT_CODE_KEY + "'";
  }

  private String createRequestId(String zone, String name) {
    return UUID.nameUUIDFromBytes(("accel-dispatch:create:" + project + "/" + zone + "/" + name).getBytes(StandardCharsets.UTF_8)).toString();
  }

  // ---- status -----------------------------------------------------------------------------------

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    String zone = resource.zone();
    String qrName = queuedResourceName(zone, resource.name());
    QueuedResource qr;
    try {
      qr = call(zone, () -> client.getQueuedResourceCallable().call(
          GetQueuedResourceRequest.newBuilder().setName(qrName).build(), context()));
    } catch (ProviderException e) {
      if (isNotFound(e)) {
        return ResourceStatus.gone("queued resource " + resource.name() + " not found");
      }
      throw e;
    }
    QueuedResourceState st = qr.getState();
    String words = "queued resource " + st.getState();
    switch (st.getState()) {
      case CREATING, ACCEPTED, WAITING_FOR_RESOURCES, PROVISIONING, STATE_UNSPECIFIED:
        return ResourceStatus.pending(words);
      case FAILED: {
        com.google.rpc.Status error = st.getFailedData().getError();
        ProviderException e = TpuErrors.fromStatus(id, zone, error);
        if (e instanceof ProviderException.CapacityUnavailable || e instanceof ProviderException.QuotaExceeded
            || e instanceof ProviderException.Throttled || e instanceof ProviderException.PermissionDenied
            || e instanceof ProviderException.InvalidRequest) {
          throw e;
        }
        return new ResourceStatus(ResourceStatus.Phase.FAILED, -1, words + ": " + e.cloudCode() + " " + error.getMessage(), Map.of());
      }
      case SUSPENDING, SUSPENDED:
        if (st.getStateInitiator() == QueuedResourceState.StateInitiator.USER) {
          return ResourceStatus.gone(words + " by the user");
        }
        return ResourceStatus.preempted(words + " by the service");
      case DELETING:
        return ResourceStatus.gone(words);
      case ACTIVE:
        return activeStatus(qr, zone, resource.name());
      default:
        return ResourceStatus.pending(words);
    }
  }

  private ResourceStatus activeStatus(QueuedResource qr, String zone, String name) {
    String nodeName = nodeName(zone, qr.getTpu().getNodeSpecCount() > 0 ? qr.getTpu().getNodeSpec(0).getNodeId() : name);
    int workers = workers(qr.getTpu().getNodeSpecCount() > 0
        ? chips(qr.getTpu().getNodeSpec(0).getNode().getAcceleratorType()) : 1);
    Node node;
    try {
      node = call(zone, () -> client.getNodeCallable().call(GetNodeRequest.newBuilder().setName(nodeName).build(), context()));
    } catch (ProviderException e) {
      if (isNotFound(e)) {
        return ResourceStatus.preempted("queued resource ACTIVE but its node is gone");
      }
      throw e;
    }
    String words = "queued resource ACTIVE, node " + node.getState() + " (" + node.getNetworkEndpointsCount() + "/" + workers
        + " workers)" + (node.getHealthDescription().isEmpty() ? "" : ": " + node.getHealthDescription());
    switch (node.getState()) {
      case CREATING, STARTING, RESTARTING, REIMAGING, STATE_UNSPECIFIED:
        return ResourceStatus.pending(words);
      case DELETING:
        return ResourceStatus.gone(words);
      case READY:
        break;
      default:
        // PREEMPTED, TERMINATED, REPAIRING, STOPPED, STOPPING, HIDING, HIDDEN, UNHIDING, UNKNOWN:
        // the slice is not whole any more; its workload cannot go on.
        return exitCode(zone, nodeName, workers, words).orElseGet(() -> ResourceStatus.preempted(words));
    }
    Optional<ResourceStatus> ended = exitCode(zone, nodeName, workers, words);
    if (ended.isPresent()) {
      return ended.get();
    }
    if (node.getNetworkEndpointsCount() < workers) {
      return ResourceStatus.preempted(words + ": a worker is missing");
    }
    return ResourceStatus.running(words);
  }

  /** The exit code once every worker reported one (the first non-zero one if any failed). */
  private Optional<ResourceStatus> exitCode(String zone, String nodeName, int workers, String words) {
    GetGuestAttributesResponse resp;
    try {
      resp = call(zone, () -> client.getGuestAttributesCallable().call(
          GetGuestAttributesRequest.newBuilder().setName(nodeName).setQueryPath(GUEST_NAMESPACE + "/").build(), context()));
    } catch (ProviderException e) {
      if (isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
    Integer failed = null;
    int reported = 0;
    for (GuestAttributes ga : resp.getGuestAttributesList()) {
      for (GuestAttributesEntry e : ga.getQueryValue().getItemsList()) {
        if (GUEST_NAMESPACE.equals(e.getNamespace()) && EXIT_CODE_KEY.equals(e.getKey())) {
          try {
            int code = Integer.parseInt(e.getValue().trim());
            reported++;
            if (code != 0 && failed == null) {
              failed = code;
            }
          } catch (NumberFormatException ignored) {
            // a value we did not write; keep waiting for a real one
          }
        }
      }
    }
    if (failed != null) {
      return Optional.of(ResourceStatus.exited(failed, words + "; workload exited " + failed));
    }
    if (reported > 0 && reported >= workers) {
      return Optional.of(ResourceStatus.exited(0, words + "; workload exited 0"));
    }
    return Optional.empty();
  }

  // ---- release and list -------------------------------------------------------------------------

  @Override
  public void release(ProvisionedResource resource) {
    String zone = resource.zone();
    String name = queuedResourceName(zone, resource.name());
    DeleteQueuedResourceRequest req = DeleteQueuedResourceRequest.newBuilder()
        .setName(name).setForce(true).setRequestId(UUID.randomUUID().toString()).build();
    try {
      Operation op = call(zone, () -> client.deleteQueuedResourceCallable().call(req, context()));
      if (op.getDone() && op.hasError()) {
        ProviderException e = TpuErrors.fromStatus(id, zone, op.getError());
        if (!isNotFound(e)) {
          throw e;
        }
      }
      LOG.info("deleting queued resource {} in {}", resource.name(), zone);
    } catch (ProviderException e) {
      if (!isNotFound(e)) {
        throw e;
      }
    }
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    String fleetLabel = GcpLabels.key(ProvisionRequest.LABEL_FLEET);
    String fleetValue = GcpLabels.value(fleetId);
    List<ProvisionedResource> out = new ArrayList<>();
    for (String zone : zones) {
      String token = "";
      do {
        ListQueuedResourcesRequest req = ListQueuedResourcesRequest.newBuilder()
            .setParent(parent(zone)).setPageSize(100).setPageToken(token).build();
        ListQueuedResourcesResponse page = call(zone, () -> client.listQueuedResourcesCallable().call(req, context()));
        for (QueuedResource qr : page.getQueuedResourcesList()) {
          if (qr.getTpu().getNodeSpecCount() == 0) {
            continue;
          }
          Node n = qr.getTpu().getNodeSpec(0).getNode();
          if (fleetValue.equals(n.getLabelsMap().get(fleetLabel))) {
            String name = qr.getName().substring(qr.getName().lastIndexOf('/') + 1);
            out.add(resource(name, zone, n.getAcceleratorType()));
          }
        }
        token = page.getNextPageToken();
      } while (!token.isEmpty());
    }
    return out;
  }

  /** Closes the client if this provider created it; a host's own client is left open. */
  @Override
  public void close() {
    if (ownsClient) {
      client.close();
      try {
        client.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "GcpTpuProvider{id=" + id + ", project=" + project + ", zones=" + zones + "}";
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private <T> T call(String zone, Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (ApiException e) {
      throw TpuErrors.fromApi(id, zone, e);
    } catch (ProviderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw TpuErrors.unexpected(id, zone, e);
    }
  }

  /** One attempt, bounded by the call timeout: the engine does the retrying. */
  private ApiCallContext context() {
    RetrySettings once = RetrySettings.newBuilder()
        .setMaxAttempts(1)
        .setTotalTimeoutDuration(callTimeout)
        .setInitialRpcTimeoutDuration(callTimeout)
        .setMaxRpcTimeoutDuration(callTimeout)
        .setRpcTimeoutMultiplier(1.0)
        .build();
    ApiCallContext base = httpJson ? HttpJsonCallContext.createDefault() : GrpcCallContext.createDefault();
    return base.withTimeoutDuration(callTimeout).withRetrySettings(once).withRetryableCodes(Set.<StatusCode.Code>of());
  }

  private static boolean isNotFound(ProviderException e) {
    return "NOT_FOUND".equals(e.cloudCode());
  }

  private ProvisionedResource resource(String name, String zone, String acceleratorType) {
    return new ProvisionedResource(id, name, zone, Map.of(
        "project", project,
        "queuedResource", queuedResourceName(zone, name),
        "node", nodeName(zone, name),
        "acceleratorType", acceleratorType));
  }

  private String parent(String zone) {
    return "projects/" + project + "/locations/" + zone;
  }

  private String queuedResourceName(String zone, String name) {
    return parent(zone) + "/queuedResources/" + name;
  }

  private String nodeName(String zone, String name) {
    return parent(zone) + "/nodes/" + name;
  }

  static String acceleratorType(int chips) {
    return "v5litepod-" + chips;
  }

  /** Chips of a v5e accelerator type, or -1 when it is not one. */
  static int chips(String acceleratorType) {
    var m = ACCELERATOR.matcher(acceleratorType);
    if (!m.matches()) {
      return -1;
    }
    int chips = Integer.parseInt(m.group(1));
    return SLICE_CHIPS.contains(chips) ? chips : -1;
  }

  /** Worker hosts of a slice: one per 8 chips from 16 chips up, else one. */
  static int workers(int chips) {
    return chips >= 16 ? chips / CHIPS_PER_HOST : 1;
  }

  static String region(String zone) {
    return zone.substring(0, zone.lastIndexOf('-'));
  }

  /** Builds a {@link GcpTpuProvider}. Not thread-safe; {@link #build()} copies every setting. */
  public static final class Builder {
    private final TpuClient client;
    private final TpuSettings settings;
    private String id = DEFAULT_ID;
    private String project;
    private final Set<String> zones = new LinkedHashSet<>();
    private List<Integer> slices = SLICE_CHIPS;
    private String runtimeVersion = DEFAULT_RUNTIME_VERSION;
    private String network;
    private String subnetwork;
    private boolean externalIps = true;
    private String serviceAccount;
    private Function<String, String> secretFetcher;
    private List<String> dockerArgs = List.of("--privileged", "--net=host");
    private Duration callTimeout = Duration.ofSeconds(30);
    private PriceCatalog prices = PriceCatalog.defaults();
    private ProviderLimits limits =
        new ProviderLimits(10, Duration.ofSeconds(90), 4, Duration.ofSeconds(1), Duration.ofSeconds(30), 5, Duration.ofMinutes(1));

    private Builder(TpuClient client, TpuSettings settings) {
      this.client = client;
      this.settings = settings;
    }

    /** The provider id; default {@value GcpTpuProvider#DEFAULT_ID}. */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** The Google Cloud project id (required). */
    public Builder project(String project) {
      this.project = Objects.requireNonNull(project, "project");
      return this;
    }

    /** The zones to offer, for example {@code us-west4-a} (at least one). */
    public Builder zones(String... zones) {
      for (String z : zones) {
        if (!ZONE.matcher(Objects.requireNonNull(z, "zone")).matches()) {
          throw new IllegalArgumentException("zones: '" + z + "' is not a zone name like us-west4-a");
        }
        this.zones.add(z);
      }
      return this;
    }

    /** The slice sizes to offer, in chips; default all of 1, 4, 8, 16, 32, 64, 128, 256. */
    public Builder slices(Integer... chips) {
      for (Integer c : chips) {
        if (!SLICE_CHIPS.contains(c)) {
          throw new IllegalArgumentException("slices: v5e slices have 1, 4, 8, 16, 32, 64, 128 or 256 chips, got " + c);
        }
      }
      this.slices = List.copyOf(new LinkedHashSet<>(List.of(chips)));
      return this;
    }

    /** The TPU VM runtime version; default {@value GcpTpuProvider#DEFAULT_RUNTIME_VERSION}. */
    public Builder runtimeVersion(String runtimeVersion) {
      this.runtimeVersion = Objects.requireNonNull(runtimeVersion, "runtimeVersion");
      return this;
    }

    /** The VPC network and subnetwork (either may be null for the project's default). */
    public Builder network(String network, String subnetwork) {
      this.network = network;
      this.subnetwork = subnetwork;
      return this;
    }

    /** Whether nodes get external IPs (needed to pull images without Cloud NAT); default true. */
    public Builder externalIps(boolean enable) {
      this.externalIps = enable;
      return this;
    }

    /** The service account email the nodes run as; default the project's default account. */
    public Builder serviceAccount(String email) {
      this.serviceAccount = email;
      return this;
    }

    /**
     * How a node fetches a secret env value with its own identity: given the quoted variable name,
     * shell text printing the value (for example {@code n -> "gcloud secrets versions access latest
     * --secret=" + n}). Without one, workloads with secret values are refused; {@link
     * Secret#googleSecretManager} references need no fetcher (the node reads them with {@code gcloud}).
     */
    public Builder secretFetcher(Function<String, String> fetcher) {
      this.secretFetcher = Objects.requireNonNull(fetcher, "secretFetcher");
      return this;
    }

    /** Extra {@code docker run} arguments; default {@code --privileged --net=host} (TPU devices). */
    public Builder dockerArgs(String... args) {
      this.dockerArgs = List.of(args);
      return this;
    }

    /** The longest one API call may take (the SDK's own retries are off); default 30 s. */
    public Builder callTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "callTimeout");
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException("callTimeout must be positive, got " + timeout);
      }
      this.callTimeout = timeout;
      return this;
    }

    /** Prices; default {@link PriceCatalog#defaults()} (SKU {@value GcpTpuProvider#PRICE_SKU}). */
    public Builder prices(PriceCatalog prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    /**
     * The limits the engine applies; default 10 calls/s, 90 s per provider call (a status is up to
     * three API calls), 4 retries from 1 s to 30 s, breaker at 5 failures for 1 min. The Cloud TPU
     * API's request quotas are per project and per minute.
     */
    public Builder limits(ProviderLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Builds the provider.
     *
     * @throws IllegalStateException when project or zones are missing
     * @throws java.io.UncheckedIOException when the client cannot be created from the settings
     */
    public GcpTpuProvider build() {
      if (project == null || project.isBlank()) {
        throw new IllegalStateException("project: set the Google Cloud project id with project(...)");
      }
      if (zones.isEmpty()) {
        throw new IllegalStateException("zones: name at least one zone with zones(...), e.g. us-west4-a");
      }
      if (client != null) {
        return new GcpTpuProvider(this, client, false);
      }
      TpuClient own;
      try {
        own = TpuClient.create(settings);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("could not create a TpuClient from the settings", e);
      }
      try {
        return new GcpTpuProvider(this, own, true);
      } catch (RuntimeException e) {
        own.close();
        throw e;
      }
    }
  }
}
