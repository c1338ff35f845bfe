package dev.acceldispatch.gcp.gpu;

import com.google.api.gax.httpjson.HttpJsonCallContext;
import com.google.api.gax.rpc.ApiCallContext;
import com.google.api.gax.rpc.ApiException;
import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.ListAcceleratorTypesRequest;
import com.google.cloud.compute.v1.ListMachineTypesRequest;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.GetGuestAttributesInstanceRequest;
import com.google.cloud.compute.v1.GetInstanceRequest;
import com.google.cloud.compute.v1.GetSerialPortOutputInstanceRequest;
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
import com.google.cloud.compute.v1.SerialPortOutput;
import com.google.cloud.compute.v1.ServiceAccount;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Secret;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.gcp.internal.CloudOutcomes;
import dev.acceldispatch.gcp.internal.ExitReporter;
import dev.acceldispatch.gcp.internal.GcpNames;
import dev.acceldispatch.gcp.internal.GcpZones;
import dev.acceldispatch.gcp.internal.RequestIds;
import dev.acceldispatch.gcp.internal.SingleAttempt;
import dev.acceldispatch.spi.LogChunk;
import dev.acceldispatch.spi.LogSource;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.spi.StartupScript;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
 *   <li>{@link #readLog} reads the instance's serial port 1 ({@code instances.getSerialPortOutput}
 *       with {@code start} = the position), where the startup script sends its own and the
 *       workload's output (see {@link #readLog}).
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
 * {@code .list}, {@code .delete}, {@code .getGuestAttributes}, {@code .getSerialPortOutput} (for
 * {@link #readLog} only), {@code .setMetadata}, {@code
 * .setLabels}, {@code compute.zoneOperations.get}, {@code compute.disks.create}, {@code
 * compute.subnetworks.use} (and {@code .useExternalIp} when an external IP is used), {@code
 * compute.images.useReadOnly} on the boot image's project, plus {@code
 * iam.serviceAccounts.actAs} on the VM's service account when one is set.
 */
public final class GcpGpuProvider implements Provider, SecretDelivery, LogSource {
  private static final Logger log = LoggerFactory.getLogger(GcpGpuProvider.class);

  /** The default provider id. */
  public static final String DEFAULT_ID = "gcp-gpu";
  /** The guest attribute (namespace/key) the startup script writes the exit code to. */
  public static final String EXIT_CODE_ATTRIBUTE = ExitReporter.ATTRIBUTE;
  /**
   * The default boot image: a Deep Learning VM image family with NVIDIA drivers and Docker with
   * the NVIDIA container toolkit (family name unconfirmed offline; set your own with {@link
   * Builder#bootImage}).
   */
  public static final String DEFAULT_BOOT_IMAGE =
      "projects/deeplearning-platform-release/global/images/family/common-cu124-debian-11-py310";

  /**
   * The startup script's first command: everything it and the workload print goes to the first
   * serial port, which {@link #readLog} reads. The guest's script runner may copy startup-script
   * output there as well, but not on every image ("You can't assume startup script stdout will go to
   * the serial console, it's better to write to /dev/ttyS0 directly",
   * GoogleCloudPlatform/compute-image-tools#373), so the script writes it itself; opening the port
   * is tried first so a guest without one keeps its output on the runner's.
   */
  static final String SERIAL_CONSOLE_REDIRECT =
      "if { : >>/dev/ttyS0; } 2>/dev/null; then exec >>/dev/ttyS0 2>&1; fi";

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
  private final NetworkEgress egress;
  private final Map<String, String> bootDiskTypes;
  private final ZoneAvailability availability;
  private final String serviceAccount;
  private final SpotTermination spotTermination;
  private final Function<String, String> secretFetcher;
  private final List<String> dockerArgs;
  private final Duration callTimeout;
  private final ProviderLimits limits;
  private final ApiRateLimiter rateLimiter;
  private final Clock clock;

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
    this.egress = b.egress;
    this.bootDiskTypes = Map.copyOf(b.bootDiskTypes);
    this.serviceAccount = b.serviceAccount;
    this.spotTermination = b.spotTermination;
    this.secretFetcher = b.secretFetcher;
    this.dockerArgs = List.copyOf(b.dockerArgs);
    this.callTimeout = b.callTimeout;
    this.rateLimiter = new ApiRateLimiter(b.apiQuotas, b.clock);
    this.clock = b.clock;
    this.limits = b.limits != null ? b.limits : defaultLimits(b.apiQuotas, b.callTimeout);
    for (GpuMachineType t : machineTypes.values()) {
      if (BootDiskTypes.forMachineType(bootDiskTypes, t.machineType()) == null) {
        throw new IllegalArgumentException("machineTypes: no boot disk type known for " + t.machineType()
            + "; name one with bootDiskType(\"" + BootDiskTypes.seriesKeys(t.machineType())[0] + "\", ...)");
      }
    }
    MachineTypesClient machineTypeList = b.machineTypeList;
    AcceleratorTypesClient acceleratorTypeList = b.acceleratorTypeList;
    this.availability = new ZoneAvailability(
        zone -> readZone(machineTypeList, acceleratorTypeList, zone), b.catalogRefresh, b.clock);
    List<Offer> list = new ArrayList<>();
    for (String zone : zones) {
      String region = GcpZones.region(zone);
      ZoneAvailability.Zone here;
      try {
        here = availability.zone(zone);
      } catch (ProviderException e) {
        throw new IllegalStateException("zones: could not read the machine and accelerator types of zone " + zone
            + " (" + e.cloudCode() + ": " + e.cloudMessage() + ")", e);
      }
      for (GpuMachineType t : machineTypes.values()) {
        if (!here.offers(t)) {
          // Offered only where the machine type (and an N1's GPU) exists: an offer elsewhere
          // would cost a job an attempt per zone that lacks the series.
          continue;
        }
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

  /** One zone's machine-type and accelerator-type lists, through the host's clients. */
  private ZoneAvailability.Zone readZone(MachineTypesClient mt, AcceleratorTypesClient at, String zone) {
    List<com.google.cloud.compute.v1.MachineType> types = new ArrayList<>();
    String token = "";
    do {
      ListMachineTypesRequest req = ListMachineTypesRequest.newBuilder().setProject(project).setZone(zone)
          .setMaxResults(500).setPageToken(token).build();
      var page = call(ApiRateLimiter.Group.LIST, zone, () -> mt.listCallable().call(req, context()));
      types.addAll(page.getItemsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    List<com.google.cloud.compute.v1.AcceleratorType> accels = new ArrayList<>();
    token = "";
    do {
      ListAcceleratorTypesRequest req = ListAcceleratorTypesRequest.newBuilder().setProject(project).setZone(zone)
          .setMaxResults(500).setPageToken(token).build();
      var page = call(ApiRateLimiter.Group.LIST, zone, () -> at.listCallable().call(req, context()));
      accels.addAll(page.getItemsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ZoneAvailability.of(types, accels, clock.instant());
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
  public ProvisionedResource provision(ProvisionRequest request) {
    Offer offer = request.offer();
    String zone = offer.zone();
    GpuMachineType type = machineTypes.get(offer.machineType());
    if (!offer.providerId().equals(id) || type == null || !zones.contains(zone)) {
      throw new ProviderException.InvalidRequest(
          id, zone, "INVALID_OFFER", "offer " + offer.key() + " is not one of this provider's offers", null);
    }
    String name = request.resourceName();
    CloudOutcomes.requireReachableImage(id, zone, externalIp, egress, request.workload());
    if (!availability.zone(zone).offers(type)) {
      // The lists changed since the offers were made: refuse without spending an insert.
      throw new ProviderException.CapacityUnavailable(id, zone, "MACHINE_TYPE_NOT_IN_ZONE",
          "machine type " + type.machineType() + (type.guestAcceleratorType() == null ? "" : " with " + type.guestAcceleratorType())
              + " is no longer offered in zone " + zone, null);
    }
    if (!GcpNames.isValidResourceName(name)) {
      throw new ProviderException.InvalidRequest(
          id, zone, "INVALID_NAME", "resource name '" + name + "' does not fit GCE's instance name rules", null);
    }
    Instance instance = instance(request, type, startupScript(request, zone));
    InsertInstanceRequest insert =
        InsertInstanceRequest.newBuilder()
            .setProject(project)
            .setZone(zone)
            .setRequestId(RequestIds.stable("gce-insert", project, zone, name))
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
    String fleet = existing.getLabelsMap().get(GcpNames.labelKey(ProvisionRequest.LABEL_FLEET));
    if (!GcpNames.labelValue(request.fleetId()).equals(fleet)) {
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
            .preamble(SERIAL_CONSOLE_REDIRECT)
            .exitReporter(ExitReporter.command());
    if (secretFetcher != null) {
      b.secretFetcher(secretFetcher);
    }
    String script;
    try {
      script = b.build();
    } catch (IllegalArgumentException e) {
      // The message names the secret variables, never their values.
      throw new ProviderException.InvalidRequest(id, zone, "SECRETS_UNSUPPORTED", e.getMessage(), null);
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
    if (type.machineType().startsWith("a3-")) {
      // "The VMs must also use the Google Virtual NIC (gVNIC)" (A3 docs); the boot image must
      // declare the GVNIC guest-OS feature, as the Deep Learning VM images do.
      nic.setNicType("GVNIC");
    }
    if (externalIp) {
      nic.addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT"));
    }
    Instance.Builder b =
        Instance.newBuilder()
            .setName(request.resourceName())
            .setMachineType("zones/" + zone + "/machineTypes/" + type.machineType())
            .setScheduling(scheduling)
            .putAllLabels(GcpNames.labels(request.ownershipLabels(), request.labels()))
            .addDisks(
                AttachedDisk.newBuilder()
                    .setBoot(true)
                    .setAutoDelete(true)
                    .setInitializeParams(
                        AttachedDiskInitializeParams.newBuilder().setSourceImage(bootImage).setDiskSizeGb(bootDiskGb)
                            .setDiskType("zones/" + zone + "/diskTypes/" + BootDiskTypes.forMachineType(bootDiskTypes, type.machineType()))))
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
        return CloudOutcomes.terminal(GceErrors.fromOperation(id, zone, op), "insert of instance " + resource.name() + " failed");
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
            .setRequestId(RequestIds.fresh())
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
        "labels." + GcpNames.labelKey(ProvisionRequest.LABEL_FLEET) + " = \"" + GcpNames.labelValue(fleetId) + "\"";
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

  // ---- logs -------------------------------------------------------------------------------------

  /**
   * Reads the instance's serial console (port 1) from byte {@code position}. The startup script
   * sends its own and the workload's output there ({@link #SERIAL_CONSOLE_REDIRECT}), so the console
   * holds the workload's standard output and standard error together, in order, between whatever
   * else the machine writes to it (kernel and guest agent messages): {@link LogSource.Stream#STDOUT} is the whole
   * console and {@link LogSource.Stream#STDERR} is always empty. Positions are the API's byte
   * positions. Compute Engine keeps the last 1 MB; when the requested bytes were discarded, the
   * chunk starts with one marker line giving how many bytes were lost (a count, never workload
   * text). Once the instance is deleted its console is gone, and a read returns no lines.
   */
  @Override
  public LogChunk readLog(Attempt attempt, LogSource.Stream stream, long position, int maxLines) {
    Objects.requireNonNull(attempt, "attempt");
    Objects.requireNonNull(stream, "stream");
    if (!attempt.offer().providerId().equals(id)) {
      throw new IllegalArgumentException("attempt: ran on provider " + attempt.offer().providerId() + ", not on " + id);
    }
    if (position < 0) {
      throw new IllegalArgumentException("position must be >= 0, got " + position);
    }
    if (maxLines < 1) {
      throw new IllegalArgumentException("maxLines must be >= 1, got " + maxLines);
    }
    if (stream == LogSource.Stream.STDERR) {
      return new LogChunk(List.of(), position);
    }
    String zone = attempt.provisioned().map(ProvisionedResource::zone).orElse(attempt.offer().zone());
    GetSerialPortOutputInstanceRequest req =
        GetSerialPortOutputInstanceRequest.newBuilder()
            .setProject(project)
            .setZone(zone)
            .setInstance(attempt.resourceName())
            .setPort(1)
            .setStart(position)
            .build();
    SerialPortOutput out;
    try {
      out = call(ApiRateLimiter.Group.READ, zone, () -> instances.getSerialPortOutputCallable().call(req, context()));
    } catch (ProviderException.InvalidRequest e) {
      if (isNotFound(e)) {
        return new LogChunk(List.of(), position);
      }
      throw e;
    }
    return SerialConsole.lines(position, out.getStart(), out.getContents(), maxLines, !attempt.isLive());
  }

  // ---- calls ------------------------------------------------------------------------------------

  private GetInstanceRequest get(String zone, String name) {
    return GetInstanceRequest.newBuilder().setProject(project).setZone(zone).setInstance(name).build();
  }

  /** One call with the SDK's retries off and a bounded timeout: the engine's policies retry. */
  private ApiCallContext context() {
    return SingleAttempt.context(HttpJsonCallContext.createDefault(), callTimeout);
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
    private boolean externalIp;
    private NetworkEgress egress;
    private final Map<String, String> bootDiskTypes = new java.util.HashMap<>(BootDiskTypes.DEFAULTS);
    private MachineTypesClient machineTypeList;
    private AcceleratorTypesClient acceleratorTypeList;
    private Duration catalogRefresh = Duration.ofHours(1);
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

    /**
     * The zones to offer, for example {@code us-central1-a}. At least one is required. Each machine
     * type is offered only in the zones whose {@code machineTypes.list} (and, for an N1 machine's
     * GPU, {@code acceleratorTypes.list}) has it; see {@link #zoneCatalog}.
     */
    public Builder zones(String... zones) {
      for (String z : zones) {
        GcpZones.requireZone(z);
      }
      this.zones = List.of(zones);
      return this;
    }

    /**
     * The clients that list what exists in each zone (required): offers are made only where the
     * machine type exists, and the lists are read again after {@link #catalogRefresh}. The host
     * keeps and closes them.
     */
    public Builder zoneCatalog(MachineTypesClient machineTypes, AcceleratorTypesClient acceleratorTypes) {
      this.machineTypeList = Objects.requireNonNull(machineTypes, "machineTypes");
      this.acceleratorTypeList = Objects.requireNonNull(acceleratorTypes, "acceleratorTypes");
      return this;
    }

    /** How long a zone's machine and accelerator type lists are trusted; default 1 hour. */
    public Builder catalogRefresh(Duration refresh) {
      if (refresh == null || refresh.isNegative() || refresh.isZero()) {
        throw new IllegalArgumentException("catalogRefresh must be positive, got " + refresh);
      }
      this.catalogRefresh = refresh;
      return this;
    }

    /**
     * The boot disk type of a machine series, overriding the built-in table ({@code pd-balanced}
     * for N1, A2, A3 High and G2; {@code hyperdisk-balanced} for A3 Ultra, A4 and G4). {@code
     * series} is a machine type's first one or two dash-separated parts, for example {@code g2} or
     * {@code a3-ultragpu}.
     */
    public Builder bootDiskType(String series, String diskType) {
      Objects.requireNonNull(series, "series");
      Objects.requireNonNull(diskType, "diskType");
      if (!diskType.matches("[a-z][-a-z0-9]*")) {
        throw new IllegalArgumentException("bootDiskType: '" + diskType + "' is not a disk type name like pd-balanced");
      }
      this.bootDiskTypes.put(series.toLowerCase(java.util.Locale.ROOT), diskType);
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

    /**
     * Whether instances get an external IP; default false. Without one the subnet must provide
     * egress: say which with {@link #egress}.
     */
    public Builder externalIp(boolean externalIp) {
      this.externalIp = externalIp;
      return this;
    }

    /**
     * The egress the instances' subnet provides when they have no external IP (Cloud NAT or
     * Private Google Access); required unless {@code externalIp(true)}.
     */
    public Builder egress(NetworkEgress egress) {
      this.egress = Objects.requireNonNull(egress, "egress");
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

    /** The clock of the rate-quota windows and of the zone lists' refresh; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the provider.
     *
     * <p>Reads each zone's machine and accelerator type lists once.
     *
     * @throws IllegalStateException when the project, zones, zone catalog or machine types are
     *     missing, instances without an external IP have no declared egress, or a zone's lists
     *     cannot be read (for example a zone that does not exist)
     * @throws IllegalArgumentException when a machine type has no price or boot disk type
     */
    public GcpGpuProvider build() {
      if (project == null || project.isBlank()) {
        throw new IllegalStateException("project: set the Google Cloud project id with project(...)");
      }
      if (zones.isEmpty()) {
        throw new IllegalStateException("zones: at least one zone is required, for example us-central1-a");
      }
      if (machineTypes.isEmpty()) {
        throw new IllegalStateException("machineTypes: at least one machine type is required");
      }
      if (machineTypeList == null) {
        throw new IllegalStateException("zoneCatalog: pass the MachineTypesClient and AcceleratorTypesClient with"
            + " zoneCatalog(...), so machine types are offered only in the zones that have them");
      }
      CloudOutcomes.requireDeclaredEgress(externalIp, egress, "instances");
      return new GcpGpuProvider(this);
    }
  }
}
