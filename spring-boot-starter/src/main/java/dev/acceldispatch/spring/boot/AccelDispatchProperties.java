package dev.acceldispatch.spring.boot;


import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The dispatcher's settings under {@code acceldispatch.*}, bound once at start. Engine settings
 * left unset keep the defaults of {@code Dispatcher.Builder}, which documents each one; they are
 * not repeated here so that they cannot drift apart.
 *
 * @param enabled whether the starter builds a dispatcher at all
 * @param fleetId the fleet id put on every cloud resource; dispatchers that do not share a store
 *     must not share it in one cloud account
 * @param engine queueing, failover, polling and shutdown settings
 * @param store where jobs are kept
 * @param tenants limits and fair-share weight per tenant; tenants not named are unlimited, weight 1
 * @param providers the providers the starter wires; any other {@code Provider} bean is wired too
 * @param metrics the Micrometer binding
 * @param dashboard reserved for the web dashboard of a coming release; not read yet
 */
@ConfigurationProperties("acceldispatch")
public record AccelDispatchProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("default") String fleetId,
    @DefaultValue Engine engine,
    @DefaultValue Store store,
    Map<String, Tenant> tenants,
    @DefaultValue Providers providers,
    @DefaultValue Metrics metrics,
    @DefaultValue Dashboard dashboard) {

  /** Copies the tenants. */
  public AccelDispatchProperties {
    tenants = tenants == null ? Map.of() : Map.copyOf(tenants);
  }

  /**
   * Engine settings; each one unset keeps the {@code Dispatcher.Builder} default.
   *
   * @param maxQueuedJobs the most unfinished jobs held before {@code submit} refuses
   * @param capacityBlock how long a stockout blocks that provider, zone and shape at first
   * @param capacityBlockMax the longest a repeated stockout blocks it (doubling from
   *     capacity-block); when only capacity-block is set, blocks do not grow
   * @param stockoutCoversLargerShapes whether a stockout of a shape also blocks larger shapes of
   *     the same accelerator type in that zone
   * @param quotaBlock how long a quota failure blocks its scope
   * @param preemptionPenalty how long a zone is avoided for spot after a preemption there
   * @param pollInterval the first status polling interval; set with poll-interval-max
   * @param pollIntervalMax the longest status polling interval; set with poll-interval
   * @param reconcileInterval how often the orphan reconciler runs
   * @param releaseRetryInterval how often a release the cloud refused is tried again
   * @param shutdownTimeout how long closing waits for releases with a non-durable store
   * @param defaultSpotPreemptionsPerHour the spot preemption rate assumed before any is seen
   * @param checkpointRestartOverhead work lost per preemption by a job that checkpoints
   * @param pendingTimeout how long an attempt may stay pending before the engine fails over
   * @param leaseDuration with a store shared by several dispatchers, how long a job's lease
   *     lasts without a heartbeat
   */
  public record Engine(
      Integer maxQueuedJobs,
      Duration capacityBlock,
      Duration capacityBlockMax,
      Boolean stockoutCoversLargerShapes,
      Duration quotaBlock,
      Duration preemptionPenalty,
      Duration pollInterval,
      Duration pollIntervalMax,
      Duration reconcileInterval,
      Duration releaseRetryInterval,
      Duration shutdownTimeout,
      Double defaultSpotPreemptionsPerHour,
      Duration checkpointRestartOverhead,
      Duration pendingTimeout,
      Duration leaseDuration) {}

  /**
   * Where jobs are kept.
   *
   * @param type {@code auto}: the JDBC store on the application's {@code DataSource} when there is
   *     one and accel-dispatch-jdbc-store is on the class path, else in memory; {@code jdbc}: the
   *     JDBC store, failing at start without a {@code DataSource}; {@code memory}: in memory (not
   *     durable: closing cancels every unfinished job)
   */
  public record Store(@DefaultValue("auto") StoreType type) {}

  /** The kinds of store. */
  public enum StoreType {
    /** JDBC when a DataSource exists, else memory. */
    AUTO,
    /** The JDBC store on the application's DataSource. */
    JDBC,
    /** In memory. */
    MEMORY
  }

  /**
   * One tenant's limits.
   *
   * @param weight fair-share weight (positive; default 1)
   * @param maxConcurrentDevices the most accelerators the tenant may hold at once (default no limit)
   * @param maxHourlySpend the most the tenant's live attempts may cost per hour together, in USD
   * @param budget the most the tenant may spend in total, in USD
   */
  public record Tenant(Double weight, Integer maxConcurrentDevices, BigDecimal maxHourlySpend, BigDecimal budget) {}

  /**
   * The providers the starter can wire, each off until enabled.
   *
   * @param local this machine
   * @param gcpTpu Cloud TPU v5e slices
   * @param gcpGpu Compute Engine GPU VMs
   * @param azureGpu Azure GPU VMs
   */
  public record Providers(
      @DefaultValue Local local, @DefaultValue GcpTpu gcpTpu, @DefaultValue GcpGpu gcpGpu,
      @DefaultValue AzureGpu azureGpu) {}

  /**
   * The local provider: runs workloads as processes of this machine.
   *
   * @param enabled whether to wire it
   * @param id its provider id (default {@code local})
   * @param stateDirectory where it keeps the state of running attempts, kept across restarts
   *     (default {@code ~/.accel-dispatch/local})
   * @param logDirectory where workloads' output goes (default inside the state directory)
   * @param cpuSlots how many jobs without accelerators may run at once
   * @param hostName the host name in its zone {@code local-<host>}
   * @param passEnvironment names of this process's environment variables passed to workloads
   * @param terminationGrace how long a cancelled workload gets between SIGTERM and SIGKILL
   */
  public record Local(
      boolean enabled, String id, Path stateDirectory, Path logDirectory, Integer cpuSlots, String hostName,
      List<String> passEnvironment, Duration terminationGrace) {}

  /**
   * Cloud TPU v5e through the Cloud TPU API v2. Uses the application's {@code TpuClient} bean, or
   * creates one with the application's {@code CredentialsProvider} bean, or Application Default
   * Credentials.
   *
   * @param enabled whether to wire it
   * @param id its provider id (default {@code gcp-tpu})
   * @param project the Google Cloud project id
   * @param zones the zones to place slices in, for example {@code us-west4-a}
   * @param slices the slice sizes offered, in chips (default every v5e size)
   * @param runtimeVersion the TPU software version
   * @param serviceAccount the service account the TPU VMs run as
   * @param egress how the nodes' subnet reaches the internet ({@code CLOUD_NAT}, {@code
   *     PRIVATE_GOOGLE_ACCESS}); required unless {@code external-ip} is true
   * @param externalIp whether each node gets an external IP of its own (default false)
   * @param callTimeout the longest one API call may take
   */
  public record GcpTpu(
      boolean enabled, String id, String project, List<String> zones, List<Integer> slices, String runtimeVersion,
      String serviceAccount, String egress, Boolean externalIp, Duration callTimeout) {}

  /**
   * Compute Engine GPU VMs. Uses the application's {@code InstancesClient}, {@code
   * ZoneOperationsClient}, {@code MachineTypesClient} and {@code AcceleratorTypesClient} beans, or
   * creates them with the application's {@code CredentialsProvider} bean, or Application Default
   * Credentials. The provider reads each zone's machine-type and accelerator-type lists at start.
   *
   * @param enabled whether to wire it
   * @param id its provider id (default {@code gcp-gpu})
   * @param project the Google Cloud project id
   * @param zones the zones to place VMs in, for example {@code us-central1-a}
   * @param spot whether spot VMs are offered
   * @param bootImage the boot disk image
   * @param bootDiskGb the boot disk size in GB
   * @param externalIp whether VMs get a public address (default false)
   * @param egress how the VMs' subnet reaches the internet ({@code CLOUD_NAT}, {@code
   *     PRIVATE_GOOGLE_ACCESS}); required unless {@code external-ip} is true
   * @param serviceAccount the service account the VMs run as
   * @param catalogRefresh how long a zone's machine-type and accelerator-type lists are trusted
   *     before they are read again
   * @param callTimeout the longest one API call may take
   */
  public record GcpGpu(
      boolean enabled, String id, String project, List<String> zones, Boolean spot, String bootImage,
      Integer bootDiskGb, Boolean externalIp, String egress, String serviceAccount, Duration catalogRefresh,
      Duration callTimeout) {}

  /**
   * Azure GPU VMs through Azure Resource Manager. Uses the application's {@code ComputeManager}
   * bean, or authenticates one with the application's {@code TokenCredential} bean, or {@code
   * DefaultAzureCredential}.
   *
   * @param enabled whether to wire it
   * @param id its provider id (default {@code azure-gpu})
   * @param subscriptionId the subscription, when the starter authenticates the ComputeManager
   * @param tenantId the Entra tenant, when the starter authenticates the ComputeManager
   * @param resourceGroup the resource group VMs are created in
   * @param regions the regions to place VMs in, for example {@code eastus}
   * @param subnet the subnet resource id used in every region without its own
   * @param subnets a subnet resource id per region
   * @param sizes the VM sizes offered, for example {@code Standard_NC24ads_A100_v4}
   * @param adminUsername the VMs' admin user
   * @param sshPublicKey the public key put on the VMs (a public key, not a secret)
   * @param userAssignedIdentity the managed identity the VMs run as and report their exit code with, a
   *     resource id (required: see the provider's README for its role)
   * @param subnetEgress how the subnets reach the internet ({@code NAT_GATEWAY}, {@code FIREWALL},
   *     {@code LOAD_BALANCER_OUTBOUND_RULES}, {@code PRIVATE_ENDPOINTS}); required unless {@code
   *     external-ip} is true
   * @param externalIp whether each VM gets a public IP of its own (default false)
   * @param callTimeout the longest one API call may take
   */
  public record AzureGpu(
      boolean enabled, String id, String subscriptionId, String tenantId, String resourceGroup, List<String> regions,
      String subnet, Map<String, String> subnets, List<String> sizes, String adminUsername, String sshPublicKey,
      String userAssignedIdentity, String subnetEgress, Boolean externalIp, Duration callTimeout) {}

  /**
   * The Micrometer binding.
   *
   * @param enabled whether the dispatcher's metrics go to the application's {@code MeterRegistry}
   */
  public record Metrics(@DefaultValue("true") boolean enabled) {}

  /**
   * Reserved for the web dashboard of a coming release (it needs the job queries being added to
   * the dispatcher). This release reads no dashboard setting and serves no page.
   *
   * @param enabled whether to serve the dashboard (no effect yet)
   * @param path where the dashboard will be served
   */
  public record Dashboard(@DefaultValue("false") boolean enabled, @DefaultValue("/acceldispatch") String path) {}
}
