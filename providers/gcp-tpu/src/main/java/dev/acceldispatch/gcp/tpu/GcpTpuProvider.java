package dev.acceldispatch.gcp.tpu;

import com.google.api.gax.grpc.GrpcCallContext;
import com.google.api.gax.httpjson.HttpJsonCallContext;
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
import com.google.cloud.tpu.v2.ServiceAccount;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.Operation;
import com.google.protobuf.Timestamp;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.Secret;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.gcp.internal.CloudOutcomes;
import dev.acceldispatch.gcp.internal.ExitReporter;
import dev.acceldispatch.gcp.internal.GcpNames;
import dev.acceldispatch.gcp.internal.GcpZones;
import dev.acceldispatch.gcp.internal.RequestIds;
import dev.acceldispatch.gcp.internal.SingleAttempt;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.spi.StartupScript;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
 *       missing worker is a preemption of the whole slice; FAILED past its {@code valid_until} (whatever
 *       {@code failed_data} holds) is a capacity outcome, other capacity/quota/throttling errors are
 *       thrown, and the rest (INVALID_ARGUMENT, PERMISSION_DENIED) end the attempt with the cloud's
 *       code and message; a queued resource that is not found is looked up in its create operation
 *       (a create that failed later reports the cloud's error there), else it is gone.
 *   <li>{@code release} deletes the queued resource with {@code force=true}; not found is success.
 *   <li>{@code listOwned} lists the queued resources of every configured zone and keeps those whose
 *       node carries this fleet's label.
 * </ul>
 *
 * <p>Multi-host slices (16 chips and up) have one worker VM per 4 chips ({@code ct5lp-hightpu-4t}):
 * v5litepod-16 has 4 workers, v5litepod-256 has 64. A slice ends when every worker reported.
 *
 * <p>Every call is bounded by {@link Builder#callTimeout} and made without the SDK's own retries
 * (the engine retries). Credentials are the host's: a client it built, or settings it passed (by
 * default Application Default Credentials); this class never reads credentials itself.
 *
 * <p>Least permissions for the identity: {@code tpu.queuedResources.create/get/list/delete},
 * {@code tpu.nodes.get}, {@code tpu.nodes.create/delete} (used by the queued resource on your
 * behalf), {@code iam.serviceAccounts.actAs} on the node's service account.
 */
public final class GcpTpuProvider implements Provider, SecretDelivery, AutoCloseable {
  /** The default provider id, also the provider column of the built-in price catalog. */
  public static final String DEFAULT_ID = "gcp-tpu";
  /** The default TPU VM runtime for v5e. */
  public static final String DEFAULT_RUNTIME_VERSION = "v2-alpha-tpuv5-lite";
  /** The price catalog SKU: price per v5e chip-hour. */
  public static final String PRICE_SKU = "tpu-v5e-chip";
  /** The guest attribute namespace the startup script writes. */
  public static final String GUEST_NAMESPACE = ExitReporter.NAMESPACE;
  /** The guest attribute key holding the workload's exit code. */
  public static final String EXIT_CODE_KEY = ExitReporter.KEY;
  /** Every v5e slice size, in chips. */
  public static final List<Integer> SLICE_CHIPS = List.of(1, 4, 8, 16, 32, 64, 128, 256);
  /**
   * Chips per worker VM of a multi-host slice: v5e slices of 16 chips and more run on {@code
   * ct5lp-hightpu-4t} VMs with 4 chips each (Cloud TPU v5e docs, "VM types"; GKE "Plan TPUs": a 16x16
   * pool "always has either 64 nodes or zero").
   */
  static final int CHIPS_PER_WORKER = 4;
  /** The resource attribute holding the create operation's name, consulted when the queued resource vanishes. */
  static final String ATTR_CREATE_OPERATION = "createOperation";

  private static final Logger LOG = LoggerFactory.getLogger(GcpTpuProvider.class);
  private static final Pattern ACCELERATOR = Pattern.compile("v5litepod-([0-9]+)");

  private final TpuClient client;
  private final boolean ownsClient;
  private final String id;
  private final String project;
  private final List<String> zones;
  private final String runtimeVersion;
  private final String network;
  private final String subnetwork;
  private final boolean externalIp;
  private final NetworkEgress egress;
  private final Clock clock;
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
    this.externalIp = b.externalIp;
    this.egress = b.egress;
    this.clock = b.clock;
    this.serviceAccount = b.serviceAccount;
    this.secretFetcher = b.secretFetcher;
    this.dockerArgs = List.copyOf(b.dockerArgs);
    this.callTimeout = b.callTimeout;
    this.limits = b.limits;
    this.httpJson = client.getSettings().getTransportChannelProvider().getTransportName().contains("http");
    List<Offer> list = new ArrayList<>();
    for (String zone : zones) {
      String region = GcpZones.region(zone);
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

  /**
   * {@code secretEnv} kinds its machines can be given: {@link Secret.Kind#GOOGLE_SECRET_MANAGER} references, read on
   * the machine with its own identity; values and dispatcher-host references only with a {@link
   * Builder#secretFetcher secretFetcher}, since they are never written in clear (the startup
   * script's rule, {@code SECRETS_UNSUPPORTED} at launch otherwise).
   */
  @Override
  public Set<Secret.Kind> deliverableSecretKinds() {
    return secretFetcher == null
        ? EnumSet.of(Secret.Kind.GOOGLE_SECRET_MANAGER)
        : EnumSet.of(Secret.Kind.GOOGLE_SECRET_MANAGER, Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
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
    CloudOutcomes.requireReachableImage(id, zone, externalIp, egress, r.workload());
    String script;
    try {
      StartupScript.Builder s = StartupScript.forWorkload(r.workload())
          .machineResolves(Secret.Kind.GOOGLE_SECRET_MANAGER)
          .dockerArgs(dockerArgs.toArray(String[]::new))
          .exitReporter(ExitReporter.command());
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
        .putAllLabels(GcpNames.labels(r.ownershipLabels(), r.labels()))
        .putMetadata("startup-script", script)
        .putMetadata("enable-guest-attributes", "TRUE");
    NetworkConfig.Builder net = NetworkConfig.newBuilder().setEnableExternalIps(externalIp);
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
    QueuedResource.Builder qr = QueuedResource.newBuilder()
        .setTpu(QueuedResource.Tpu.newBuilder().addNodeSpec(
            QueuedResource.Tpu.NodeSpec.newBuilder().setParent(parent).setNodeId(r.resourceName()).setNode(node)));
    if (r.spot()) {
      // Spot is the queued resource's tier, the one field `gcloud ... queued-resources create --spot`
      // sets; the node's scheduling config is left alone so the request says it in one place.
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
        .setRequestId(RequestIds.stable("tpu-create", project, zone, r.resourceName()))
        .build();
    try {
      Operation op = call(zone, () -> client.createQueuedResourceCallable().call(req, context()));
      if (op.getDone() && op.hasError()) {
        throw TpuErrors.fromStatus(id, zone, op.getError());
      }
      LOG.info("created queued resource {} ({}{}) in {}", r.resourceName(), offer.machineType(), r.spot() ? ", spot" : "", zone);
      // Kept: if the create fails later and the queued resource is gone, only the operation says why.
      return resource(r.resourceName(), zone, offer.machineType(), op.getName());
    } catch (ProviderException.InvalidRequest e) {
      if (!"ALREADY_EXISTS".equals(e.cloudCode())) {
        throw e;
      }
      LOG.info("queued resource {} already exists in {}: adopting it", r.resourceName(), zone);
      return resource(r.resourceName(), zone, offer.machineType(), null);
    }
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
        return vanished(resource);
      }
      throw e;
    }
    QueuedResourceState st = qr.getState();
    String words = "queued resource " + st.getState();
    switch (st.getState()) {
      case CREATING, ACCEPTED, WAITING_FOR_RESOURCES, PROVISIONING, STATE_UNSPECIFIED:
        return ResourceStatus.pending(words);
      case FAILED:
        return failed(qr, zone, words);
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

  /**
   * A FAILED queued resource. Past its {@code valid_until} the cloud gave up finding capacity in
   * time, whatever {@code failed_data} holds (DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or nothing): a
   * capacity outcome, so the engine fails over. Otherwise capacity, quota and throttling errors are
   * thrown as the contract allows, and anything else (INVALID_ARGUMENT, PERMISSION_DENIED, ...) is a
   * terminal failure carrying the cloud's code and message.
   */
  private ResourceStatus failed(QueuedResource qr, String zone, String words) {
    com.google.rpc.Status error = qr.getState().getFailedData().getError();
    boolean expired = error.getCode() == com.google.rpc.Code.DEADLINE_EXCEEDED_VALUE
        || (error.getCode() == 0 && error.getMessage().isEmpty()) || pastValidUntil(qr);
    if (expired) {
      String said = error.getCode() == 0 && error.getMessage().isEmpty()
          ? "no error given" : io.grpc.Status.fromCodeValue(error.getCode()).getCode() + ": " + error.getMessage();
      throw new ProviderException.CapacityUnavailable(id, zone, "QUEUED_RESOURCE_EXPIRED",
          "the queued resource failed when its valid_until passed without capacity (" + said + ")", null);
    }
    return CloudOutcomes.terminal(TpuErrors.fromStatus(id, zone, error), words);
  }

  private boolean pastValidUntil(QueuedResource qr) {
    if (!qr.hasQueueingPolicy() || !qr.getQueueingPolicy().hasValidUntilTime()) {
      return false;
    }
    Timestamp t = qr.getQueueingPolicy().getValidUntilTime();
    return !clock.instant().isBefore(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
  }



  /**
   * The queued resource is not there. If this provider created it, its create operation says
   * whether the create failed later (the cloud's error, not a preemption), is still running, or
   * succeeded (then the resource was deleted: gone).
   */
  private ResourceStatus vanished(ProvisionedResource resource) {
    String zone = resource.zone();
    String opName = resource.attributes().get(ATTR_CREATE_OPERATION);
    if (opName != null) {
      Operation op;
      try {
        op = call(zone, () -> operation(opName));
      } catch (ProviderException e) {
        if (!isNotFound(e)) {
          throw e;
        }
        op = null;
      }
      if (op != null && !op.getDone()) {
        return ResourceStatus.pending("create operation " + opName + " still running");
      }
      if (op != null && op.hasError()) {
        return CloudOutcomes.terminal(TpuErrors.fromStatus(id, zone, op.getError()), "create of queued resource " + resource.name() + " failed");
      }
    }
    return ResourceStatus.gone("queued resource " + resource.name() + " not found");
  }

  private Operation operation(String name) {
    if (httpJson) {
      return client.getHttpJsonOperationsClient().getOperationCallable()
          .call(GetOperationRequest.newBuilder().setName(name).build(), context());
    }
    return client.getOperationsClient().getOperationCallable()
        .call(GetOperationRequest.newBuilder().setName(name).build(), context());
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
        .setName(name).setForce(true).setRequestId(RequestIds.fresh()).build();
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
    String fleetLabel = GcpNames.labelKey(ProvisionRequest.LABEL_FLEET);
    String fleetValue = GcpNames.labelValue(fleetId);
    List<ProvisionedResource> out = new ArrayList<>();
    for (String zone : zones) {
      String token = "";
      do {
        ListQueuedResourcesRequest req = ListQueuedResourcesRequest.newBuilder()
            .setParent(parent(zone)).setPageSize(100).setPageToken(token).build();
        ListQueuedResourcesResponse page = call(zone, () -> client.listQueuedResourcesCallable().call(req, context()));
        for (QueuedResource qr : page.getQueuedResourcesList()) {
          if (qr.getTpu().getNodeSpecCount() == 0 || qr.getState().getState() == QueuedResourceState.State.DELETING) {
            // Being deleted already: nothing for the reconciler to release.
            continue;
          }
          Node n = qr.getTpu().getNodeSpec(0).getNode();
          if (fleetValue.equals(n.getLabelsMap().get(fleetLabel))) {
            String name = qr.getName().substring(qr.getName().lastIndexOf('/') + 1);
            out.add(resource(name, zone, n.getAcceleratorType(), null));
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
    return SingleAttempt.context(httpJson ? HttpJsonCallContext.createDefault() : GrpcCallContext.createDefault(), callTimeout);
  }

  private static boolean isNotFound(ProviderException e) {
    return "NOT_FOUND".equals(e.cloudCode());
  }

  private ProvisionedResource resource(String name, String zone, String acceleratorType, String createOperation) {
    Map<String, String> attrs = new java.util.LinkedHashMap<>();
    attrs.put("project", project);
    attrs.put("queuedResource", queuedResourceName(zone, name));
    attrs.put("node", nodeName(zone, name));
    attrs.put("acceleratorType", acceleratorType);
    if (createOperation != null) {
      attrs.put(ATTR_CREATE_OPERATION, createOperation);
    }
    return new ProvisionedResource(id, name, zone, attrs);
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

  /** Worker VMs of a slice: one per 4 chips from 16 chips up (ct5lp-hightpu-4t), else one. */
  static int workers(int chips) {
    return chips >= 16 ? chips / CHIPS_PER_WORKER : 1;
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
    private boolean externalIp;
    private NetworkEgress egress;
    private Clock clock = Clock.systemUTC();
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
        this.zones.add(GcpZones.requireZone(z));
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

    /**
     * Whether nodes get external IPs; default false. Without them the subnet must provide egress:
     * say which with {@link #egress}.
     */
    public Builder externalIp(boolean enable) {
      this.externalIp = enable;
      return this;
    }

    /**
     * The egress the nodes' subnet provides when they have no external IP (Cloud NAT or Private
     * Google Access); required unless {@code externalIp(true)}.
     */
    public Builder egress(NetworkEgress egress) {
      this.egress = Objects.requireNonNull(egress, "egress");
      return this;
    }

    /** The clock that decides whether a queued resource's {@code valid_until} has passed; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
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
     * @throws IllegalStateException when project or zones are missing, or nodes without an
     *     external IP have no declared egress
     * @throws java.io.UncheckedIOException when the client cannot be created from the settings
     */
    public GcpTpuProvider build() {
      if (project == null || project.isBlank()) {
        throw new IllegalStateException("project: set the Google Cloud project id with project(...)");
      }
      if (zones.isEmpty()) {
        throw new IllegalStateException("zones: name at least one zone with zones(...), e.g. us-west4-a");
      }
      CloudOutcomes.requireDeclaredEgress(externalIp, egress, "nodes");
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
