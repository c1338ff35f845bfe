package dev.acceldispatch.gcp.gpu;

import com.google.api.gax.httpjson.HttpJsonCallContext;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.ApiCallContext;
import com.google.api.gax.rpc.ApiException;
import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.GetGuestAttributesInstanceRequest;
import com.google.cloud.compute.v1.GetInstanceRequest;
import com.google.cloud.compute.v1.GetZoneOperationRequest;
import com.google.cloud.compute.v1.GuestAttributes;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.ListInstancesRequest;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.ServiceAccount;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Secret;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.StartupScript;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU virtual machines on Google Compute Engine, through the host's own {@link InstancesClient} and
 * {@link ZoneOperationsClient} (the host owns their credentials and lifecycle).
 *
 * <p>What it does with the cloud:
 *
 * <ul>
 *   <li>{@link #provision} inserts one instance named after the engine's deterministic resource
 *       name, with a {@code requestId} derived from project, zone and name (so a retry after a
 *       lost response returns the original operation instead of creating a second machine), the
 *       fleet/job/attempt labels, {@code onHostMaintenance=TERMINATE} without automatic restart
 *       (GPUs cannot live-migrate, and a restart would run the workload twice), the SPOT
 *       provisioning model for spot offers, a boot image with GPU drivers, and a startup script
 *       that runs the workload in a container ({@code docker run --gpus all}) or as a script and
 *       PUTs its exit code to the guest attribute {@code acceldispatch/exit-code}. An instance of
 *       that name that already exists is adopted.
 *   <li>{@link #status} reads the instance: PROVISIONING/STAGING are pending, RUNNING is running
 *       until the guest attribute holds an exit code. A TERMINATED (or stopped, suspended) instance
 *       without an exit code was taken back by the cloud: preempted. A missing instance is gone,
 *       unless its insert operation ended in an error: a stockout ({@code
 *       ZONE_RESOURCE_POOL_EXHAUSTED[_WITH_DETAILS]}) or a quota error arrives there, in a DONE
 *       operation that the client may report as a success, and is thrown as {@code
 *       CapacityUnavailable} or {@code QuotaExceeded}.
 *   <li>{@link #release} deletes the instance; a missing one is success (unless its insert is
 *       still running, which would create it after the delete: then it is transient).
 *   <li>{@link #listOwned} lists each configured zone with the filter {@code
 *       labels.accel-dispatch-fleet = "<fleet>"}.
 * </ul>
 *
 * <p>Spot termination action: {@link SpotTermination#STOP} by default, so a preempted spot
 * instance stays visible as TERMINATED and is reported as PREEMPTED; the engine then releases
 * (deletes) it. With {@link SpotTermination#DELETE} a preempted spot instance disappears; one that
 * vanishes without an exit code is then reported as PREEMPTED too.
 *
 * <p>Every call goes out with the SDK's own retries off and a bounded timeout ({@link
 * Builder#callTimeout}): the engine retries. Calls are first counted against GCE's per-project
 * rate quotas ({@link GceApiQuotas}); one over budget is not sent and reports {@code Throttled}
 * until the next minute window.
 *
 * <p>Secrets: the startup script is instance metadata, readable by anyone who can read the
 * project, so secret variables are refused unless the host configures a {@link
 * Builder#secretFetcher secret fetcher} (for example a Secret Manager call with the VM's service
 * account), or gives them as {@link Secret#googleSecretManager} references, which the VM reads
 * with {@code gcloud} and its service account.
 *
 * <p>Least permissions of the host's identity: {@code compute.instances.create}, {@code .get},
 * {@code .list}, {@code .delete}, {@code .getGuestAttributes}, {@code .setMetadata}, {@code
 * .setLabels}, {@code compute.zoneOperations.get}, {@code compute.disks.create}, {@code
 * compute.subnetworks.use} (and {@code .useExternalIp} when an external IP is used), {@code
 * compute.images.useReadOnly} on the boot image's project, plus {@code
 * iam.serviceAccounts.actAs} on the VM's service account when one is set.
 */
public final class GcpGpuProvider implements Provider {
  private static final Logger log = LoggerFactory.getLogger(GcpGpuProvider.class);

  /** The default provider id. */
  public static final String DEFAULT_ID = "gcp-gpu";
  /** The guest attribute (namespace/key) the startup script writes the exit code to. */
  public static final String EXIT_CODE_ATTRIBUTE = "acceldispatch/exit-code";
  /**
   * The default boot image: a Deep Learning VM image family with NVIDIA drivers and Docker with
   * the NVIDIA container toolkit (family name unconfirmed offline; set your own with {@link
   * Builder#bootImage}).
   */
  public static final String DEFAULT_BOOT_IMAGE =
      "projects/deeplearning-platform-release/global/images/family/common-cu124-debian-11-py310";

  static final String ATTR_PROJECT = "project";
  static final String ATTR_INSERT_OPERATION = "insertOperation";
  static final String ATTR_SPOT = "spot";
  static final String ATTR_MACHINE_TYPE = "machineType";

  /** What Compute Engine does with a preempted spot instance ({@code instanceTerminationAction}). */
  public enum SpotTermination {
    /** Stop it: it stays as TERMINATED (its disk still billed) until released. The default. */
    STOP,
    /** Delete it: it disappears with its disk. */
    DELETE
  }

  private final String id;
  private final InstancesClient instances;
  private final ZoneOperationsClient zoneOperations;
  private final String project;
  private final List<String> zones;
  private final Map<String, GpuMachineType> machineTypes;
  private final List<Offer> offers;
  private final String bootImage;
  private final int bootDiskGb;
  private final String network;
  private final boolean externalIp;
  private final String serviceAccount;
  private final SpotTermination spotTermination;
  private final Function<String, String> secretFetcher;
  private final List<String> dockerArgs;
  private final Duration callTimeout;
  private final ProviderLimits limits;
  private final ApiRateLimiter rateLimiter;

  private GcpGpuProvider(Builder b) {
    this.id = b.id;
    this.instances = b.instances;
    this.zoneOperations = b.zoneOperations;
    this.project = b.project;
    this.zones = List.copyOf(b.zones);
    Map<String, GpuMachineType> table = new LinkedHashMap<>();
    for (GpuMachineType t : b.machineTypes) {
      if (table.put(t.machineType(), t) != null) {
        throw new IllegalArgumentException("machineTypes: machine type " + t.machineType() + " appears twice");
      }
    }
    this.machineTypes = table;
    this.bootImage = b.bootImage;
    this.bootDiskGb = b.bootDiskGb;
    this.network = b.network;
    this.externalIp = b.externalIp;
    this.serviceAccount = b.serviceAccount;
    this.spotTermination = b.spotTermination;
    this.secretFetcher = b.secretFetcher;
    this.dockerArgs = List.copyOf(b.dockerArgs);
    this.callTimeout = b.callTimeout;
    this.rateLimiter = new ApiRateLimiter(b.apiQuotas, b.clock);
    this.limits = b.limits != null ? b.limits : defaultLimits(b.apiQuotas, b.callTimeout);
    List<Offer> list = new ArrayList<>();
    for (String zone : zones) {
      String region = region(zone);
      for (GpuMachineType t : machineTypes.values()) {
        PriceCatalog.Prices p = b.prices.require(id, t.sku(), region);
        Money spot = b.spot ? p.spot() : null;
        list.add(Offer.of(id, region, zone, t.shape(), t.machineType(), p.onDemand(), spot));
      }
    }
    this.offers = List.copyOf(list);
  }

  /**
   * Starts a builder on the host's clients; the host keeps them and closes them.
   *
   * @param instances the Compute Engine instances client
   * @param zoneOperations the zone operations client of the same project and credentials
   */
  public static Builder builder(InstancesClient instances, ZoneOperationsClient zoneOperations) {
    return new Builder(instances, zoneOperations);
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
  public ProvisionedResource provision(ProvisionRequest request) {
    Offer offer = request.offer();
    String zone = offer.zone();
    GpuMachineType type = machineTypes.get(offer.machineType());
    if (!offer.providerId().equals(id) || type == null || !zones.contains(zone)) {
      throw new ProviderException.InvalidRequest(
          id, zone, "INVALID_OFFER", "offer " + offer.key() + " is not one of this provider's offers", null);
    }
    String name = request.resourceName();
    if (!GceNames.isValidInstanceName(name)) {
      throw new ProviderException.InvalidRequest(
          id, zone, "INVALID_NAME", "resource name '" + name + "' does not fit GCE's instance name rules", null);
    }
    Instance instance = instance(request, type, startupScript(request, zone));
    InsertInstanceRequest insert =
        InsertInstanceRequest.newBuilder()
            .setProject(project)
            .setZone(zone)
            .setRequestId(requestId(zone, name))
            .setInstanceResource(instance)
            .build();
    Operation op;
    try {
      op = call(ApiRateLimiter.Group.MUTATION, zone, () -> instances.insertCallable().call(insert, context()));
    } catch (ProviderException.InvalidRequest e) {
      if (e.getCause() instanceof ApiException api && GceErrors.describe(api).isAlreadyExists()) {
        return adopt(request, zone);
      }
      throw e;
    }
    if (GceErrors.failed(op)) {
      throw GceErrors.fromOperation(id, zone, op);
    }
    log.info("inserted instance {} ({}, spot={}) in {}, operation {}", name, type.machineType(), request.spot(), zone, op.getName());
    return resource(name, zone, request.spot(), type.machineType(), op.getName());
  }

  private ProvisionedResource adopt(ProvisionRequest request, String zone) {
    String name = request.resourceName();
    Instance existing = call(ApiRateLimiter.Group.READ, zone, () -> instances.getCallable().call(get(zone, name), context()));
    String fleet = existing.getLabelsMap().get(GceNames.labelKey(ProvisionRequest.LABEL_FLEET));
    if (!GceNames.labelValue(request.fleetId()).equals(fleet)) {
      throw new ProviderException.InvalidRequest(
          id, zone, "alreadyExists",
          "instance " + name + " exists but is not labelled as fleet " + request.fleetId() + "; not adopting it", null);
    }
    log.info("adopted existing instance {} in {}", name, zone);
    boolean spot = existing.getScheduling().getProvisioningModel().equals("SPOT");
    return resource(name, zone, spot, lastSegment(existing.getMachineType()), null);
  }

  private ProvisionedResource resource(String name, String zone, boolean spot, String machineType, String insertOperation) {
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put(ATTR_PROJECT, project);
    attrs.put(ATTR_SPOT, Boolean.toString(spot));
    attrs.put(ATTR_MACHINE_TYPE, machineType);
    if (insertOperation != null) {
      attrs.put(ATTR_INSERT_OPERATION, insertOperation);
    }
    return new ProvisionedResource(id, name, zone, attrs);
  }

  private String startupScript(ProvisionRequest request, String zone) {
    StartupScript.Builder b =
        StartupScript.forWorkload(request.workload())
            .machineResolves(Secret.Kind.GOOGLE_SECRET_MANAGER)
            .dockerArgs(dockerArgs.toArray(String[]::new))
            .exitReporter(
                "curl -sS --retry 5 -X PUT --data \"$rc\" -H 'Metadata-Flavor: Google' "
                    + StartupScript.quote(
                        "http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/"
                            + EXIT_CODE_ATTRIBUTE));
    if (secretFetcher != null) {
      b.secretFetcher(secretFetcher);
    }
    String script;
    try {
      script = b.build();
    } catch (IllegalArgumentException e) {
      // The message names the secret variables, never their values.
      throw new ProviderException.InvalidRequest(id, zone, "SECRETS_WITHOUT_STORE", e.getMessage(), null);
    }
    if (script.getBytes(StandardCharsets.UTF_8).length > 262_144) {
      throw new ProviderException.InvalidRequest(
          id, zone, "STARTUP_SCRIPT_TOO_LARGE", "the startup script exceeds GCE's 262144-byte metadata value limit", null);
    }
    return script;
  }

  private Instance instance(ProvisionRequest request, GpuMachineType type, String script) {
    String zone = request.offer().zone();
    Scheduling.Builder scheduling =
        Scheduling.newBuilder().setOnHostMaintenance("TERMINATE").setAutomaticRestart(false);
    if (request.spot()) {
      scheduling.setProvisioningModel("SPOT").setInstanceTerminationAction(spotTermination.name());
    } else {
      scheduling.setProvisioningModel("STANDARD");
    }
    NetworkInterface.Builder nic = NetworkInterface.newBuilder().setNetwork(network);
    if (externalIp) {
      nic.addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT"));
    }
    Instance.Builder b =
        Instance.newBuilder()
            .setName(request.resourceName())
            .setMachineType("zones/" + zone + "/machineTypes/" + type.machineType())
            .setScheduling(scheduling)
            .putAllLabels(GceNames.labels(request.ownershipLabels(), request.labels()))
            .addDisks(
                AttachedDisk.newBuilder()
                    .setBoot(true)
                    .setAutoDelete(true)
                    .setInitializeParams(
                        AttachedDiskInitializeParams.newBuilder().setSourceImage(bootImage).setDiskSizeGb(bootDiskGb)))
            .addNetworkInterfaces(nic)
            .setMetadata(
                Metadata.newBuilder()
                    .addItems(Items.newBuilder().setKey("startup-script").setValue(script))
                    .addItems(Items.newBuilder().setKey("enable-guest-attributes").setValue("TRUE"))
                    .addItems(Items.newBuilder().setKey("install-nvidia-driver").setValue("True")));
    if (type.guestAcceleratorType() != null) {
      b.addGuestAccelerators(
          AcceleratorConfig.newBuilder()
              .setAcceleratorType("zones/" + zone + "/acceleratorTypes/" + type.guestAcceleratorType())
              .setAcceleratorCount(type.gpuCount()));
    }
    if (serviceAccount != null) {
      b.addServiceAccounts(
          ServiceAccount.newBuilder().setEmail(serviceAccount).addScopes("https://www.googleapis.com/auth/cloud-platform"));
    }
    return b.build();
  }

  /** The same UUID for every insert of one name in one zone of one project: GCE dedupes on it. */
  String requestId(String zone, String name) {
    return UUID.nameUUIDFromBytes(("acceldispatch/gce-insert/" + project + "/" + zone + "/" + name).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  // ---- status -----------------------------------------------------------------------------------

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    String zone = resource.zone();
    String name = resource.name();
    Instance vm;
    try {
      vm = call(ApiRateLimiter.Group.READ, zone, () -> instances.getCallable().call(get(zone, name), context()));
    } catch (ProviderException.InvalidRequest e) {
      if (isNotFound(e)) {
        return vanished(resource);
      }
      throw e;
    }
    String state = vm.getStatus();
    String detail = "GCE status " + state + (vm.getStatusMessage().isEmpty() ? "" : ": " + vm.getStatusMessage());
    switch (state) {
      case "PROVISIONING", "STAGING", "PENDING" -> {
        return ResourceStatus.pending(detail);
      }
      case "RUNNING", "REPAIRING", "STOPPING", "SUSPENDING" -> {
        Integer exit = exitCode(zone, name);
        return exit != null ? exited(exit, detail) : ResourceStatus.running(detail);
      }
      case "TERMINATED", "STOPPED", "SUSPENDED" -> {
        Integer exit = exitCode(zone, name);
        if (exit != null) {
          return exited(exit, detail);
        }
        return ResourceStatus.preempted(detail + " without reporting an exit code (preempted or host maintenance)");
      }
      default -> {
        return ResourceStatus.pending(detail);
      }
    }
  }

  private static ResourceStatus exited(int code, String detail) {
    return ResourceStatus.exited(code, "workload exited with " + code + " (" + detail + ")");
  }

  /** The exit code the startup script reported in guest attributes, or null when none yet. */
  private Integer exitCode(String zone, String name) {
    GetGuestAttributesInstanceRequest req =
        GetGuestAttributesInstanceRequest.newBuilder()
            .setProject(project)
            .setZone(zone)
            .setInstance(name)
            .setVariableKey(EXIT_CODE_ATTRIBUTE)
            .build();
    GuestAttributes ga;
    try {
      ga = call(ApiRateLimiter.Group.READ, zone, () -> instances.getGuestAttributesCallable().call(req, context()));
    } catch (ProviderException.InvalidRequest e) {
      if (isNotFound(e)) {
        return null;
      }
      throw e;
    }
    String value = ga.getVariableValue().trim();
    if (value.isEmpty()) {
      return null;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      log.warn("instance {} reported a non-numeric exit code; treating it as a failure", name);
      return -1;
    }
  }

  /** The instance is not there: gone, still being inserted, or its insert failed. */
  private ResourceStatus vanished(ProvisionedResource resource) {
    String zone = resource.zone();
    String opName = resource.attributes().get(ATTR_INSERT_OPERATION);
    if (opName != null) {
      Operation op = insertOperation(zone, opName);
      if (op != null && op.getStatus() != Operation.Status.DONE) {
        return ResourceStatus.pending("insert operation " + opName + " is " + op.getStatus());
      }
      if (op != null && GceErrors.failed(op)) {
        throw GceErrors.fromOperation(id, zone, op);
      }
    }
    boolean spot = Boolean.parseBoolean(resource.attributes().get(ATTR_SPOT));
    if (spot && spotTermination == SpotTermination.DELETE && opName != null) {
      return ResourceStatus.preempted("spot instance " + resource.name() + " vanished without reporting an exit code");
    }
    return ResourceStatus.gone("instance " + resource.name() + " not found in " + zone);
  }

  /** The insert operation, or null when GCE no longer knows it. */
  private Operation insertOperation(String zone, String opName) {
    GetZoneOperationRequest req =
        GetZoneOperationRequest.newBuilder().setProject(project).setZone(zone).setOperation(opName).build();
    try {
      return call(ApiRateLimiter.Group.OPERATION_READ, zone, () -> zoneOperations.getCallable().call(req, context()));
    } catch (ProviderException.InvalidRequest e) {
      if (isNotFound(e)) {
        return null;
      }
      throw e;
    }
  }

  // ---- release and list -------------------------------------------------------------------------

  @Override
  public void release(ProvisionedResource resource) {
    String zone = resource.zone();
    String name = resource.name();
    DeleteInstanceRequest req =
        DeleteInstanceRequest.newBuilder()
            .setProject(project)
            .setZone(zone)
            .setInstance(name)
            // A fresh id: deletes are idempotent by themselves, and a reused id could answer a
            // later delete of a new instance of the same name with an old operation.
            .setRequestId(UUID.randomUUID().toString())
            .build();
    Operation op;
    try {
      op = call(ApiRateLimiter.Group.MUTATION, zone, () -> instances.deleteCallable().call(req, context()));
    } catch (ProviderException.InvalidRequest e) {
      if (!isNotFound(e)) {
        throw e;
      }
      String opName = resource.attributes().get(ATTR_INSERT_OPERATION);
      if (opName != null) {
        Operation insert = insertOperation(zone, opName);
        if (insert != null && insert.getStatus() != Operation.Status.DONE) {
          // Saying "released" now would leak the machine the running insert is about to create.
          throw new ProviderException.Transient(
              id, zone, "INSERT_IN_PROGRESS", "instance " + name + " is still being inserted; release it again", null);
        }
      }
      log.info("instance {} in {} already gone", name, zone);
      return;
    }
    if (GceErrors.failed(op)) {
      throw GceErrors.fromOperation(id, zone, op);
    }
    log.info("deleting instance {} in {}, operation {}", name, zone, op.getName());
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    String filter =
        "labels." + GceNames.labelKey(ProvisionRequest.LABEL_FLEET) + " = \"" + GceNames.labelValue(fleetId) + "\"";
    List<ProvisionedResource> out = new ArrayList<>();
    for (String zone : zones) {
      ListInstancesRequest req =
          ListInstancesRequest.newBuilder().setProject(project).setZone(zone).setFilter(filter).setMaxResults(500).build();
      String pageToken = "";
      do {
        ListInstancesRequest page = pageToken.isEmpty() ? req : req.toBuilder().setPageToken(pageToken).build();
        var list = call(ApiRateLimiter.Group.LIST, zone, () -> instances.listCallable().call(page, context()));
        for (Instance i : list.getItemsList()) {
          boolean spot = i.getScheduling().getProvisioningModel().equals("SPOT");
          out.add(resource(i.getName(), zone, spot, lastSegment(i.getMachineType()), null));
        }
        pageToken = list.getNextPageToken();
      } while (!pageToken.isEmpty());
    }
    return out;
  }

  // ---- calls ------------------------------------------------------------------------------------

  private GetInstanceRequest get(String zone, String name) {
    return GetInstanceRequest.newBuilder().setProject(project).setZone(zone).setInstance(name).build();
  }

  /**
   * One call with the SDK's retries off and a bounded timeout: the engine's Failsafe policies do
   * the retrying, and one call must not hang for the SDK's default ten minutes.
   */
  private ApiCallContext context() {
    RetrySettings once =
        RetrySettings.newBuilder()
            .setMaxAttempts(1)
            .setTotalTimeoutDuration(callTimeout)
            .setInitialRpcTimeoutDuration(callTimeout)
            .setMaxRpcTimeoutDuration(callTimeout)
            .setRpcTimeoutMultiplier(1.0)
            .setInitialRetryDelayDuration(Duration.ZERO)
            .setMaxRetryDelayDuration(Duration.ZERO)
            .setRetryDelayMultiplier(1.0)
            .build();
    return HttpJsonCallContext.createDefault().withTimeoutDuration(callTimeout).withRetrySettings(once);
  }

  private <T> T call(ApiRateLimiter.Group group, String zone, Supplier<T> call) {
    Duration wait = rateLimiter.tryAcquire(group);
    if (!wait.isZero()) {
      throw new ProviderException.Throttled(
          id, zone, wait, "CLIENT_RATE_LIMIT",
          "GCE " + group.name().toLowerCase(Locale.ROOT) + " rate quota for this minute is used up", null);
    }
    try {
      return call.get();
    } catch (ApiException e) {
      throw GceErrors.fromCall(id, zone, e);
    } catch (RuntimeException e) {
      throw new ProviderException.Transient(id, zone, e.getClass().getSimpleName(), String.valueOf(e.getMessage()), e);
    }
  }

  private static boolean isNotFound(ProviderException.InvalidRequest e) {
    return e.getCause() instanceof ApiException api && GceErrors.describe(api).isNotFound();
  }

  private static ProviderLimits defaultLimits(GceApiQuotas q, Duration callTimeout) {
    // The engine's one rate: a status poll costs up to two reads, so stay at a third of the read
    // budget; retries back off up to the 60 s of GCE's rate-quota windows.
    double perSecond = Math.max(0.1, Math.min(q.readsPerMinute() / 3.0, q.mutationsPerMinute()) / 60.0);
    return new ProviderLimits(
        perSecond, callTimeout.plusSeconds(5), 4, Duration.ofSeconds(1), Duration.ofSeconds(60), 5, Duration.ofMinutes(1));
  }

  private static String region(String zone) {
    int dash = zone.lastIndexOf('-');
    if (dash <= 0) {
      throw new IllegalArgumentException("zones: '" + zone + "' is not a GCE zone like us-central1-a");
    }
    return zone.substring(0, dash);
  }

  private static String lastSegment(String s) {
    int i = s.lastIndexOf('/');
    return i < 0 ? s : s.substring(i + 1);
  }

  @Override
  public String toString() {
    return "GcpGpuProvider{id=" + id + ", project=" + project + ", zones=" + zones + "}";
  }

  /** Builds a {@link GcpGpuProvider}; {@link #build()} copies the settings. */
  public static final class Builder {
    private final InstancesClient instances;
    private final ZoneOperationsClient zoneOperations;
    private String id = DEFAULT_ID;
    private String project;
    private List<String> zones = List.of();
    private List<GpuMachineType> machineTypes = GpuMachineType.defaults();
    private PriceCatalog prices = PriceCatalog.defaults();
    private boolean spot = true;
    private String bootImage = DEFAULT_BOOT_IMAGE;
    private int bootDiskGb = 200;
    private String network = "global/networks/default";
    private boolean externalIp = true;
    private String serviceAccount;
    private SpotTermination spotTermination = SpotTermination.STOP;
    private Function<String, String> secretFetcher;
    private List<String> dockerArgs = List.of("--gpus", "all");
    private Duration callTimeout = Duration.ofSeconds(30);
    private GceApiQuotas apiQuotas = GceApiQuotas.DEFAULT;
    private ProviderLimits limits;
    private Clock clock = Clock.systemUTC();

    private Builder(InstancesClient instances, ZoneOperationsClient zoneOperations) {
      this.instances = Objects.requireNonNull(instances, "instances");
      this.zoneOperations = Objects.requireNonNull(zoneOperations, "zoneOperations");
    }

    /** The provider id; default {@code gcp-gpu} (the price catalog's provider column). */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** The Google Cloud project to create instances in. Required. */
    public Builder project(String project) {
      this.project = Objects.requireNonNull(project, "project");
      return this;
    }

    /** The zones to offer, for example {@code us-central1-a}. At least one is required. */
    public Builder zones(String... zones) {
      this.zones = List.of(zones);
      return this;
    }

    /** The machine-type table; default {@link GpuMachineType#defaults()}. */
    public Builder machineTypes(List<GpuMachineType> machineTypes) {
      this.machineTypes = List.copyOf(machineTypes);
      return this;
    }

    /** Prices; default {@link PriceCatalog#defaults()}. Every machine type needs a row. */
    public Builder prices(PriceCatalog prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    /** Whether to offer spot tiers (where the catalog has a spot price); default true. */
    public Builder spot(boolean spot) {
      this.spot = spot;
      return this;
    }

    /** The boot image (or image family) with GPU drivers and Docker; default {@link GcpGpuProvider#DEFAULT_BOOT_IMAGE}. */
    public Builder bootImage(String image) {
      this.bootImage = Objects.requireNonNull(image, "bootImage");
      return this;
    }

    /** The boot disk size in GB; default 200. */
    public Builder bootDiskGb(int gb) {
      if (gb < 10) {
        throw new IllegalArgumentException("bootDiskGb must be >= 10, got " + gb);
      }
      this.bootDiskGb = gb;
      return this;
    }

    /** The network; default {@code global/networks/default}. */
    public Builder network(String network) {
      this.network = Objects.requireNonNull(network, "network");
      return this;
    }

    /** Whether instances get an external IP (to pull images without Cloud NAT); default true. */
    public Builder externalIp(boolean externalIp) {
      this.externalIp = externalIp;
      return this;
    }

    /** The service account the instances run as (cloud-platform scope); default none. */
    public Builder serviceAccount(String email) {
      this.serviceAccount = Objects.requireNonNull(email, "serviceAccount");
      return this;
    }

    /** What GCE does with a preempted spot instance; default {@link SpotTermination#STOP}. */
    public Builder spotTermination(SpotTermination action) {
      this.spotTermination = Objects.requireNonNull(action, "spotTermination");
      return this;
    }

    /**
     * How the machine fetches a secret variable with its own identity: given the quoted variable
     * name, shell text printing the value (see {@link StartupScript.Builder#secretFetcher}).
     * Without one, workloads with secrets are refused.
     */
    public Builder secretFetcher(Function<String, String> fetcher) {
      this.secretFetcher = Objects.requireNonNull(fetcher, "secretFetcher");
      return this;
    }

    /** Extra {@code docker run} arguments; default {@code --gpus all}. */
    public Builder dockerArgs(String... args) {
      this.dockerArgs = List.of(args);
      return this;
    }

    /** The longest one API call may take (the SDK's own retries are off); default 30 s. */
    public Builder callTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive, got " + timeout);
      }
      this.callTimeout = timeout;
      return this;
    }

    /** GCE's per-project API rate quotas to keep to; default {@link GceApiQuotas#DEFAULT}. */
    public Builder apiQuotas(GceApiQuotas quotas) {
      this.apiQuotas = Objects.requireNonNull(quotas, "apiQuotas");
      return this;
    }

    /** The limits the engine should use; default derived from the API quotas and call timeout. */
    public Builder limits(ProviderLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** The clock of the rate-quota windows; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the provider.
     *
     * @throws IllegalArgumentException when the project or zones are missing, or a machine type
     *     has no price
     */
    public GcpGpuProvider build() {
      if (project == null || project.isBlank()) {
        throw new IllegalArgumentException("project is required");
      }
      if (zones.isEmpty()) {
        throw new IllegalArgumentException("zones: at least one zone is required, for example us-central1-a");
      }
      if (machineTypes.isEmpty()) {
        throw new IllegalArgumentException("machineTypes: at least one machine type is required");
      }
      return new GcpGpuProvider(this);
    }
  }
}
