package dev.acceldispatch.azure.gpu;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.http.policy.RetryPolicy;
import com.azure.core.http.rest.Response;
import com.azure.core.management.SubResource;
import com.azure.core.util.FluxUtil;
import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.models.BillingProfile;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.DiskDeleteOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.InstanceViewStatus;
import com.azure.resourcemanager.compute.models.InstanceViewTypes;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.ManagedDiskParameters;
import com.azure.resourcemanager.compute.models.NetworkApiVersion;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.ResourceIdentityType;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageAccountTypes;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentity;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentityUserAssignedIdentities;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachineNetworkInterfaceIpConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachinePublicIpAddressConfiguration;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Workload;
import dev.acceldispatch.Secret;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.spi.StartupScript;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * GPU virtual machines on Azure through Azure Resource Manager, with the host's own {@link
 * ComputeManager} (its credentials, HTTP pipeline and retry policy).
 *
 * <p><b>What it creates.</b> One VM per attempt, named exactly the engine's resource name, in the
 * host's resource group, through the inner {@code VirtualMachinesClient} (no Network SDK): the
 * VM's NIC is declared in {@code networkProfile.networkInterfaceConfigurations} on the subnet the
 * host configures for the region, so Azure creates it with the VM; the NIC and the managed OS disk
 * carry {@code deleteOption: Delete}, so deleting the VM (release, or a Spot eviction with policy
 * Delete) deletes everything created for the attempt. Spot offers get {@code priority: Spot},
 * {@code evictionPolicy: Delete}, {@code billingProfile.maxPrice: -1} (evicted for capacity only,
 * never pay more than on-demand). Tags: the request's labels and the fleet, job and attempt,
 * sanitised by one function. The create is a PUT with {@code If-None-Match: *}: it can never
 * overwrite, so a retried create whose first response was lost answers 412 and the VM is adopted.
 *
 * <p><b>How the exit code comes back (no SSH).</b> The custom data is a shell script (cloud-init
 * runs a {@code #!} user-data part once at first boot) built with {@link StartupScript}. After the
 * workload it asks IMDS for a token of the VM's user-assigned identity for ARM and for the VM's
 * own resource id, and merges the tag {@value #EXIT_CODE_TAG} = exit code onto the VM with {@code
 * PATCH {vm id}/providers/Microsoft.Resources/tags/default} (operation Merge, api-version
 * 2021-04-01), retrying for about nine minutes; then it powers the VM off. The identity ({@link
 * Builder#userAssignedIdentity}, required) must hold the built-in role Tag Contributor ({@value
 * #TAG_CONTRIBUTOR_ROLE_ID}) on the resource group: a system-assigned identity would only exist,
 * without any role, once the VM does. A VM that could not write the tag is seen powered off
 * without an exit code: {@code FAILED(-1)} saying why, and the engine deletes it. VMs are created
 * with at most 49 tags so that the exit-code tag fits under Azure's 50.
 *
 * <p><b>Images.</b> Per size from the table {@code sizes.csv} (ubuntu-hpc, whose latest image
 * drops older GPUs, so some sizes are pinned; sources in the table), overridable with {@link
 * Builder#image(String, String)}.
 *
 * <p><b>Network.</b> No public IP unless {@link Builder#externalIp(boolean)}; the host declares
 * how the subnets reach the internet ({@link SubnetEgress}). The README lists the network and the
 * least permissions of the host's identity and of the VMs' identity.
 *
 * <p><b>Status.</b> One GET of the VM with its instance view: the exit-code tag ends it
 * (succeeded or failed with the code); {@code provisioningState Failed} is read from the PUT's
 * {@code Azure-AsyncOperation} body (falling back to the instance view's {@code
 * ProvisioningState/failed/<code>}) and capacity or quota codes are thrown as such; a Spot VM that
 * is gone (404) or deallocated without an exit code was evicted: {@code PREEMPTED}.
 *
 * <p><b>Calls and retries.</b> The provider never waits for a long-running operation: provision
 * and release return once ARM accepted the PUT or DELETE, and every request is bounded by {@link
 * Builder#callTimeout}. Build the {@link ComputeManager}'s pipeline with {@link #retryPolicy()}:
 * it retries quick failures and hands a 429 whose {@code Retry-After} is long to the provider,
 * which throws {@code Throttled} with it; the engine's Failsafe policies wait and retry. A
 * client-side token bucket per ARM operation type ({@link ArmRateLimits}) refuses calls with
 * {@code Throttled} before they are sent.
 */
public final class AzureGpuProvider implements Provider, SecretDelivery {
  /** The tag the VM writes its workload's exit code into. */
  public static final String EXIT_CODE_TAG = "accel-dispatch-exit-code";
  /** The cloud code of the refusal of a workload with secrets when no secret fetcher is configured. */
  public static final String SECRETS_UNSUPPORTED = "SECRETS_UNSUPPORTED";
  /**
   * The built-in role the VMs' identity needs on their resource group: "Tag Contributor" ({@code
   * 4a9ae827-6dc8-4573-8ac7-8239d42aa03f}, "Lets you manage tags on entities, without providing
   * access to the entities themselves"; Azure built-in roles).
   */
  public static final String TAG_CONTRIBUTOR_ROLE_ID = "4a9ae827-6dc8-4573-8ac7-8239d42aa03f";

  private static final Logger log = LoggerFactory.getLogger(AzureGpuProvider.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ATTR_SPOT = "spot";
  private static final String ATTR_ID = "azureResourceId";
  private static final String ATTR_ASYNC = "azureAsyncOperation";
  private static final String ATTR_SIZE = "vmSize";
  /** Tries of the exit-code tag write: 5, 10, 20, 40, then 60 s apart, about nine minutes in all. */
  private static final int REPORT_TRIES = 12;

  private final String id;
  private final ComputeManager compute;
  private final VirtualMachinesClient vms;
  private final String resourceGroup;
  private final List<String> regions;
  private final Map<String, String> subnets;
  private final String adminUsername;
  private final String sshPublicKey;
  private final Map<String, ImageUrn> images;
  private final String userAssignedIdentity;
  private final boolean externalIp;
  private final SubnetEgress egress;
  private final String armEndpoint;
  private final Function<String, String> secretFetcher;
  private final Duration callTimeout;
  private final Clock clock;
  private final ProviderLimits limits;
  private final List<Offer> offers;
  private final Map<String, AzureSize> sizesByName;
  private final TokenBucket reads;
  private final TokenBucket writes;
  private final TokenBucket deletes;

  private AzureGpuProvider(Builder b, Map<String, String> subnets) {
    this.id = b.id;
    this.compute = b.compute;
    this.vms = b.compute.serviceClient().getVirtualMachines();
    this.resourceGroup = b.resourceGroup;
    this.regions = List.copyOf(b.regions);
    this.subnets = Map.copyOf(subnets);
    this.adminUsername = b.adminUsername;
    this.sshPublicKey = b.sshPublicKey;
    this.userAssignedIdentity = b.userAssignedIdentity;
    this.externalIp = b.externalIp;
    this.egress = b.egress;
    this.armEndpoint = b.armEndpoint.endsWith("/") ? b.armEndpoint.substring(0, b.armEndpoint.length() - 1) : b.armEndpoint;
    this.secretFetcher = b.secretFetcher;
    this.callTimeout = b.callTimeout;
    this.clock = b.clock;
    // One provider call makes at most three requests (GET, PUT, GET after a 412), each bounded
    // by the call timeout; the engine's timeout must not cut them short.
    Duration engineTimeout = b.callTimeout.multipliedBy(3).plusSeconds(10);
    this.limits = b.limits != null ? b.limits
        : ProviderLimits.DEFAULT.withCallsPerSecond(10)
            .withCallTimeout(engineTimeout.compareTo(ProviderLimits.DEFAULT.callTimeout()) > 0 ? engineTimeout : ProviderLimits.DEFAULT.callTimeout());
    Map<String, AzureSize> chosen = new LinkedHashMap<>();
    Map<String, ImageUrn> imageBySize = new LinkedHashMap<>();
    for (String s : b.sizes) {
      AzureSize size = AzureSize.find(s);
      String key = s.toLowerCase(Locale.ROOT);
      chosen.put(key, size);
      imageBySize.put(key, b.imageOverrides.getOrDefault(key, b.allImages != null ? b.allImages : size.image()));
    }
    this.sizesByName = Map.copyOf(chosen);
    this.images = Map.copyOf(imageBySize);
    List<Offer> out = new ArrayList<>();
    for (String region : regions) {
      for (AzureSize size : chosen.values()) {
        PriceCatalog.Prices p = b.prices.require(id, size.name(), region);
        out.add(Offer.of(id, region, region, size.shape(), size.name(), p.onDemand(), p.spot()));
      }
    }
    this.offers = List.copyOf(out);
    ArmRateLimits r = b.rateLimits;
    this.reads = new TokenBucket(r.readBurst(), r.readsPerSecond(), b.clock);
    this.writes = new TokenBucket(r.writeBurst(), r.writesPerSecond(), b.clock);
    this.deletes = new TokenBucket(r.deleteBurst(), r.deletesPerSecond(), b.clock);
  }

  /**
   * The SDK retry policy to build the {@link ComputeManager}'s pipeline with (for example {@code
   * ComputeManager.configure().withRetryPolicy(AzureGpuProvider.retryPolicy()).authenticate(credential,
   * profile)}): azure-core's {@code
   * RetryPolicy} (exponential backoff from 0.8 s, at most 2 retries, honouring {@code
   * Retry-After}), except that a response asking to wait longer than 4 s is not retried by the
   * SDK but handed to the provider, which throws {@code Throttled} carrying that retry-after for
   * the engine to wait out. It sleeps at most 8 s in one request, which {@link
   * Builder#callTimeout} must exceed (checked at build). A plain {@code new RetryPolicy()} waits
   * out any {@code Retry-After} (ARM asks for tens of seconds) and outlasts the call timeout: the
   * throttling then surfaces as a transient timeout with its retry-after lost.
   */
  public static RetryPolicy retryPolicy() {
    return new ArmRetryPolicy(Clock.systemUTC());
  }

  /**
   * Starts a builder on the host's compute manager, for example {@code
   * ComputeManager.authenticate(new DefaultAzureCredentialBuilder().build(), profile)}.
   */
  public static Builder builder(ComputeManager compute) {
    return new Builder(compute);
  }

  /**
   * {@code secretEnv} kinds its machines can be given: {@link Secret.Kind#AZURE_KEY_VAULT} references, read on
   * the machine with its own identity; values and dispatcher-host references only with a {@link
   * Builder#secretFetcher secretFetcher}, since they are never written in clear (the startup
   * script's rule, {@code SECRETS_UNSUPPORTED} at launch otherwise).
   */
  @Override
  public Set<Secret.Kind> deliverableSecretKinds() {
    return secretFetcher == null
        ? EnumSet.of(Secret.Kind.AZURE_KEY_VAULT)
        : EnumSet.of(Secret.Kind.AZURE_KEY_VAULT, Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
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
    String region = offer.region();
    AzureSize size = sizesByName.get(offer.machineType().toLowerCase(Locale.ROOT));
    if (!offer.providerId().equals(id) || size == null || !regions.contains(region)) {
      throw new ProviderException.InvalidRequest(id, region, "UnknownOffer",
          "offer " + offer.key() + " is not one of this provider's offers", null);
    }
    String name = AzureNames.vmName(request.resourceName());
    String customData = customData(request.workload(), region);
    Map<String, String> wanted = new LinkedHashMap<>(request.ownershipLabels());
    request.labels().forEach(wanted::putIfAbsent);
    // The VM adds its exit-code tag when its workload ends, and Azure allows 50 tags "at the end
    // of the operation" (Tags - Update At Scope): create with one fewer.
    Map<String, String> tags = AzureNames.tags(wanted, AzureNames.MAX_TAGS - 1);

    VirtualMachineInner existing = get(name, region, false);
    if (existing != null) {
      return adopt(existing, request, size);
    }
    VirtualMachineInner vm = vmDefinition(name, region, size, request.spot(), tags, customData);
    take(writes, region);
    Response<?> accepted;
    try {
      accepted = call(region, () -> vms.createOrUpdateWithResponseAsync(resourceGroup, name, vm, null, "*")
          .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).thenReturn(r))
          .block(callTimeout));
    } catch (ProviderException e) {
      if (e.getCause() != null && AzureErrors.hasStatus(e.getCause(), 412)) {
        // If-None-Match: * failed: the VM exists (our own earlier create whose response was lost).
        VirtualMachineInner now = get(name, region, false);
        if (now == null) {
          throw new ProviderException.Transient(id, region, "PreconditionFailed",
              "the create of " + name + " answered 412 but the VM is not there; retry", e);
        }
        return adopt(now, request, size);
      }
      throw e;
    }
    String async = accepted == null ? null : accepted.getHeaders().getValue(HttpHeaderName.fromString("Azure-AsyncOperation"));
    log.info("created VM {} ({}{}) in {}", name, size.name(), request.spot() ? ", Spot" : "", region);
    return resource(name, region, armId(name), request.spot(), size.name(), async);
  }

  /** Adopts an existing VM of this name, if it is this job's attempt (never someone else's). */
  private ProvisionedResource adopt(VirtualMachineInner existing, ProvisionRequest request, AzureSize size) {
    String region = request.offer().region();
    Map<String, String> tags = existing.tags() == null ? Map.of() : existing.tags();
    String job = tagIgnoringCase(tags, ProvisionRequest.LABEL_JOB);
    String attempt = tagIgnoringCase(tags, ProvisionRequest.LABEL_ATTEMPT);
    if (!AzureNames.tagValue(request.jobId()).equals(job) || !Integer.toString(request.attempt()).equals(attempt)) {
      throw new ProviderException.InvalidRequest(id, region, "NameConflict",
          "a VM named " + existing.name() + " exists in resource group " + resourceGroup
              + " but is not this attempt's (tags job=" + job + ", attempt=" + attempt + ")", null);
    }
    log.info("adopting existing VM {} in {}", existing.name(), existing.location());
    return resource(existing.name(), existing.location(), existing.id(),
        existing.priority() == VirtualMachinePriorityTypes.SPOT, sizeName(existing, size), null);
  }

  private VirtualMachineInner vmDefinition(
      String name, String region, AzureSize size, boolean spot, Map<String, String> tags, String customData) {
    VirtualMachineNetworkInterfaceConfiguration nic =
        new VirtualMachineNetworkInterfaceConfiguration()
            .withName(name + "-nic")
            .withPrimary(true)
            .withDeleteOption(DeleteOptions.DELETE)
            .withIpConfigurations(List.of(
                new VirtualMachineNetworkInterfaceIpConfiguration()
                    .withName("ipconfig1")
                    .withPrimary(true)
                    .withSubnet(new SubResource().withId(subnets.get(region)))
                    .withPublicIpAddressConfiguration(externalIp
                        ? new VirtualMachinePublicIpAddressConfiguration().withName(name + "-ip").withDeleteOption(DeleteOptions.DELETE)
                        : null)));
    VirtualMachineInner vm =
        new VirtualMachineInner()
            .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString(size.name())))
            .withStorageProfile(new StorageProfile()
                .withImageReference(images.get(size.name().toLowerCase(Locale.ROOT)).toReference())
                .withOsDisk(new OSDisk()
                    .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE)
                    .withDeleteOption(DiskDeleteOptionTypes.DELETE)
                    .withManagedDisk(new ManagedDiskParameters().withStorageAccountType(StorageAccountTypes.PREMIUM_LRS))))
            .withOsProfile(new OSProfile()
                .withComputerName(name)
                .withAdminUsername(adminUsername)
                .withAdminPassword(sshPublicKey == null ? throwawayPassword() : null)
                .withCustomData(Base64.getEncoder().encodeToString(customData.getBytes(StandardCharsets.UTF_8)))
                .withLinuxConfiguration(linuxConfiguration()))
            .withNetworkProfile(new NetworkProfile()
                .withNetworkApiVersion(NetworkApiVersion.TWO_ZERO_TWO_ZERO_ONE_ONE_ZERO_ONE)
                .withNetworkInterfaceConfigurations(List.of(nic)))
            .withIdentity(new VirtualMachineIdentity()
                .withType(ResourceIdentityType.USER_ASSIGNED)
                .withUserAssignedIdentities(Map.of(userAssignedIdentity, new VirtualMachineIdentityUserAssignedIdentities())));
    if (spot) {
      vm.withPriority(VirtualMachinePriorityTypes.SPOT)
          .withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DELETE)
          .withBillingProfile(new BillingProfile().withMaxPrice(-1.0));
    } else {
      vm.withPriority(VirtualMachinePriorityTypes.REGULAR);
    }
    vm.withLocation(region);
    vm.withTags(tags);
    return vm;
  }

  private LinuxConfiguration linuxConfiguration() {
    if (sshPublicKey != null) {
      return new LinuxConfiguration()
          .withDisablePasswordAuthentication(true)
          .withSsh(new SshConfiguration().withPublicKeys(List.of(
              new SshPublicKey().withPath("/home/" + adminUsername + "/.ssh/authorized_keys").withKeyData(sshPublicKey))));
    }
    return new LinuxConfiguration().withDisablePasswordAuthentication(false);
  }

  /**
   * Azure requires an admin credential on a Linux VM. Without a host SSH key, each VM gets a random
   * password that is sent once (ARM never returns it), never logged and never kept: nobody can
   * log in, which is what the provider needs (it never uses SSH).
   */
  private static String throwawayPassword() {
    byte[] b = new byte[24];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b) + "aA1!";
  }

  /** The custom data: the startup script, with the exit-code reporter. Refuses unsupported secrets. */
  String customData(Workload workload, String region) {
    StartupScript.Builder b =
        StartupScript.forWorkload(workload).dockerArgs("--gpus", "all").exitReporter(exitReporter())
            .machineResolves(Secret.Kind.AZURE_KEY_VAULT);
    if (secretFetcher != null) {
      b.secretFetcher(secretFetcher);
    }
    String script;
    try {
      script = b.build();
    } catch (IllegalArgumentException e) {
      // The message names the variables, never their values.
      throw new ProviderException.InvalidRequest(id, region, SECRETS_UNSUPPORTED, e.getMessage(), null);
    }
    if (script.getBytes(StandardCharsets.UTF_8).length > 65535) {
      throw new ProviderException.InvalidRequest(id, region, "CustomDataTooLarge",
          "the startup script is larger than Azure's 64 KiB custom data limit", null);
    }
    return script;
  }

  /**
   * Shell text that writes {@code $rc} into the VM's exit-code tag with its managed identity, then
   * powers the VM off. The write is retried with backoff for about nine minutes, because a role
   * assignment can take minutes to reach ARM (cloud-api-facts: RBAC propagation); a VM that still
   * cannot report powers itself off all the same, so the provider reads it stopped without an exit
   * code and the engine deletes it, instead of a paid VM idling until the job's timeout.
   */
  private String exitReporter() {
    String resource = URLEncoder.encode(armEndpoint + "/", StandardCharsets.UTF_8);
    String tokenUrl = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + resource
        + "&msi_res_id=" + URLEncoder.encode(userAssignedIdentity, StandardCharsets.UTF_8);
    String idUrl = "http://169.254.169.254/metadata/instance/compute/resourceId?api-version=2021-02-01&format=text";
    return String.join("\n",
        "ad_arm=" + StartupScript.quote(armEndpoint),
        "ad_try=0",
        "ad_wait=5",
        "ad_reported=no",
        "while [ \"$ad_try\" -lt " + REPORT_TRIES + " ]; do",
        "  ad_token=$(curl -sf -H Metadata:true " + StartupScript.quote(tokenUrl)
            + " | sed -n 's/.*\"access_token\" *: *\"\\([^\"]*\\)\".*/\\1/p')",
        "  ad_vm=$(curl -sf -H Metadata:true " + StartupScript.quote(idUrl) + ")",
        "  if [ -n \"$ad_token\" ] && [ -n \"$ad_vm\" ] && curl -sf -X PATCH -H \"Authorization: Bearer $ad_token\""
            + " -H 'Content-Type: application/json'"
            + " --data \"{\\\"operation\\\":\\\"Merge\\\",\\\"properties\\\":{\\\"tags\\\":{\\\"" + EXIT_CODE_TAG + "\\\":\\\"$rc\\\"}}}\""
            + " \"${ad_arm}${ad_vm}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01\" >/dev/null; then",
        "    ad_reported=yes",
        "    break",
        "  fi",
        "  ad_try=$((ad_try + 1))",
        "  sleep \"$ad_wait\"",
        "  ad_wait=$((ad_wait * 2))",
        "  if [ \"$ad_wait\" -gt 60 ]; then ad_wait=60; fi",
        "done",
        "if [ \"$ad_reported\" != yes ]; then",
        "  echo 'accel-dispatch: could not write the exit-code tag (does the identity hold Tag Contributor?);"
            + " powering off so the dispatcher sees the VM stopped and deletes it' >&2",
        "fi",
        "shutdown -h now");
  }

  // ---- status -----------------------------------------------------------------------------------

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    String region = resource.zone();
    boolean spot = "true".equals(resource.attributes().get(ATTR_SPOT));
    VirtualMachineInner vm = get(AzureNames.vmName(resource.name()), region, true);
    if (vm == null) {
      return spot
          ? ResourceStatus.preempted("ResourceNotFound: the Spot VM is gone without an exit code (evicted, policy Delete)")
          : ResourceStatus.gone("ResourceNotFound");
    }
    String exit = vm.tags() == null ? null : tagIgnoringCase(vm.tags(), EXIT_CODE_TAG);
    if (exit != null) {
      try {
        return ResourceStatus.exited(Integer.parseInt(exit.trim()), "the VM reported exit code " + exit.trim());
      } catch (NumberFormatException e) {
        return new ResourceStatus(ResourceStatus.Phase.FAILED, -1, "unreadable exit code tag '" + exit + "'", Map.of());
      }
    }
    String ps = vm.provisioningState() == null ? "" : vm.provisioningState();
    String power = powerState(vm);
    if (ps.equalsIgnoreCase("Failed")) {
      String[] err = asyncError(resource, region);
      if (err == null) {
        err = instanceViewError(vm);
      }
      ProviderException e = AzureErrors.map(id, region, 0, err[0], err[1], null, null);
      if (e instanceof ProviderException.CapacityUnavailable || e instanceof ProviderException.QuotaExceeded) {
        throw e;
      }
      return new ResourceStatus(ResourceStatus.Phase.FAILED, -1, "ProvisioningState/failed/" + err[0] + ": " + err[1], Map.of());
    }
    String detail = "ProvisioningState/" + ps + ", " + (power == null ? "PowerState/unknown" : power);
    if (ps.equalsIgnoreCase("Deleting")) {
      return spot ? ResourceStatus.preempted(detail) : ResourceStatus.gone(detail);
    }
    if (power != null && (power.endsWith("/stopped") || power.endsWith("/stopping"))) {
      // Eviction never stops a VM (policy Delete deletes it, Deallocate deallocates it): the guest
      // powered itself off, which the startup script does when it could not write the exit code.
      return new ResourceStatus(ResourceStatus.Phase.FAILED, -1, detail
          + ": the VM powered itself off without reporting an exit code (its identity could not write the tag "
          + EXIT_CODE_TAG + "; it needs the role Tag Contributor on resource group " + resourceGroup + ")", Map.of());
    }
    if (power != null && (power.endsWith("/deallocated") || power.endsWith("/deallocating"))) {
      return spot
          ? ResourceStatus.preempted(detail + ": Spot VM evicted before reporting an exit code")
          : new ResourceStatus(ResourceStatus.Phase.FAILED, -1, detail + ": deallocated before reporting an exit code", Map.of());
    }
    if (ps.equalsIgnoreCase("Succeeded") && "PowerState/running".equalsIgnoreCase(power)) {
      return ResourceStatus.running(detail);
    }
    return ResourceStatus.pending(detail);
  }

  private static String tagIgnoringCase(Map<String, String> tags, String name) {
    for (Map.Entry<String, String> e : tags.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  private static String powerState(VirtualMachineInner vm) {
    if (vm.instanceView() == null || vm.instanceView().statuses() == null) {
      return null;
    }
    for (InstanceViewStatus s : vm.instanceView().statuses()) {
      if (s.code() != null && s.code().startsWith("PowerState/")) {
        return s.code();
      }
    }
    return null;
  }

  private static String[] instanceViewError(VirtualMachineInner vm) {
    if (vm.instanceView() != null && vm.instanceView().statuses() != null) {
      for (InstanceViewStatus s : vm.instanceView().statuses()) {
        if (s.code() != null && s.code().startsWith("ProvisioningState/failed")) {
          String code = s.code().length() > "ProvisioningState/failed/".length()
              ? s.code().substring("ProvisioningState/failed/".length()) : "ProvisioningFailed";
          return new String[] {code, s.message() == null ? String.valueOf(s.displayStatus()) : s.message()};
        }
      }
    }
    return new String[] {"ProvisioningFailed", "provisioningState Failed without an error in the instance view"};
  }

  /** The error of the create's Azure-AsyncOperation, when it failed; null when unknown. */
  private String[] asyncError(ProvisionedResource resource, String region) {
    String url = resource.attributes().get(ATTR_ASYNC);
    if (url == null) {
      return null;
    }
    take(reads, region);
    try (HttpResponse r = compute.serviceClient().getHttpPipeline().send(new HttpRequest(HttpMethod.GET, url)).block(callTimeout)) {
      if (r == null || r.getStatusCode() != 200) {
        return null;
      }
      String body = r.getBodyAsString().block(callTimeout);
      try (JsonReader reader = JsonProviders.createReader(body)) {
        reader.nextToken();
        if (!(reader.readUntyped() instanceof Map<?, ?> op) || !"Failed".equalsIgnoreCase(String.valueOf(op.get("status")))
            || !(op.get("error") instanceof Map<?, ?> err)) {
          return null;
        }
        return new String[] {String.valueOf(err.get("code")), String.valueOf(err.get("message"))};
      }
    } catch (IOException | RuntimeException e) {
      log.debug("could not read the async operation of {}: {}", resource.name(), e.toString());
      return null;
    }
  }

  // ---- release and list -------------------------------------------------------------------------

  @Override
  public void release(ProvisionedResource resource) {
    String region = resource.zone();
    String name = AzureNames.vmName(resource.name());
    take(deletes, region);
    try {
      Response<?> r = call(region, () -> vms.deleteWithResponseAsync(resourceGroup, name, null)
          .flatMap(x -> FluxUtil.collectBytesInByteBufferStream(x.getValue()).thenReturn(x))
          .block(callTimeout));
      if (r != null && r.getStatusCode() != 204) {
        log.info("deleting VM {} with its NIC and OS disk", name);
      }
    } catch (ProviderException e) {
      if (e.getCause() != null && AzureErrors.isNotFound(e.getCause())) {
        return;
      }
      throw e;
    }
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    String fleet = AzureNames.tagValue(fleetId);
    take(reads, null);
    List<VirtualMachineInner> all = call(null, () -> vms.listByResourceGroupAsync(resourceGroup).collectList().block(callTimeout));
    List<ProvisionedResource> out = new ArrayList<>();
    if (all == null) {
      return out;
    }
    for (VirtualMachineInner vm : all) {
      // A VM being deleted has been released already: nothing is left to reconcile.
      if (vm.tags() != null && fleet.equals(tagIgnoringCase(vm.tags(), ProvisionRequest.LABEL_FLEET))
          && !"Deleting".equalsIgnoreCase(vm.provisioningState())) {
        out.add(resource(vm.name(), vm.location(), vm.id(), vm.priority() == VirtualMachinePriorityTypes.SPOT,
            sizeName(vm, null), null));
      }
    }
    return out;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** GETs the VM; null when ARM answers 404. */
  private VirtualMachineInner get(String name, String region, boolean instanceView) {
    take(reads, region);
    try {
      return call(region, () -> vms.getByResourceGroupWithResponseAsync(resourceGroup, name,
              instanceView ? InstanceViewTypes.INSTANCE_VIEW : null)
          .map(Response::getValue)
          .block(callTimeout));
    } catch (ProviderException e) {
      if (e.getCause() != null && AzureErrors.isNotFound(e.getCause())) {
        return null;
      }
      throw e;
    }
  }

  private <T> T call(String region, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw AzureErrors.fromThrowable(id, region, e, clock);
    }
  }

  private void take(TokenBucket bucket, String region) {
    Duration wait = bucket.tryTake();
    if (wait != null) {
      throw new ProviderException.Throttled(id, region, wait, "ClientRateLimit",
          "AccelDispatch's ARM token bucket is empty; next token in " + wait.toMillis() + " ms", null);
    }
  }

  private String armId(String name) {
    return "/subscriptions/" + compute.subscriptionId() + "/resourceGroups/" + resourceGroup
        + "/providers/Microsoft.Compute/virtualMachines/" + name;
  }

  private static String sizeName(VirtualMachineInner vm, AzureSize fallback) {
    if (vm.hardwareProfile() != null && vm.hardwareProfile().vmSize() != null) {
      return vm.hardwareProfile().vmSize().toString();
    }
    return fallback == null ? "" : fallback.name();
  }

  private ProvisionedResource resource(String name, String region, String armId, boolean spot, String size, String async) {
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put(ATTR_SPOT, Boolean.toString(spot));
    if (armId != null) {
      attrs.put(ATTR_ID, armId);
    }
    if (size != null && !size.isEmpty()) {
      attrs.put(ATTR_SIZE, size);
    }
    if (async != null) {
      attrs.put(ATTR_ASYNC, async);
    }
    return new ProvisionedResource(id, name, region == null ? "" : region, attrs);
  }

  @Override
  public String toString() {
    return "AzureGpuProvider{id=" + id + ", resourceGroup=" + resourceGroup + ", regions=" + regions + "}";
  }

  /**
   * Builds an {@link AzureGpuProvider}. Required: {@link #resourceGroup}, {@link #regions}, a
   * subnet for every region ({@link #subnet}), the VMs' {@link #userAssignedIdentity} and, unless
   * VMs get a public IP, the subnets' {@link #subnetEgress}; a missing one fails {@link #build()}
   * with an {@link IllegalStateException} naming it.
   */
  public static final class Builder {
    private final ComputeManager compute;
    private String id = "azure-gpu";
    private String resourceGroup;
    private final Set<String> regions = new LinkedHashSet<>();
    private final Map<String, String> subnets = new LinkedHashMap<>();
    private String defaultSubnet;
    private SubnetEgress egress;
    private boolean externalIp;
    private String adminUsername = "acceldispatch";
    private String sshPublicKey;
    private ImageUrn allImages;
    private final Map<String, ImageUrn> imageOverrides = new LinkedHashMap<>();
    private String userAssignedIdentity;
    private String armEndpoint = "https://management.azure.com";
    private Function<String, String> secretFetcher;
    private Duration callTimeout = Duration.ofSeconds(30);
    private ProviderLimits limits;
    private PriceCatalog prices = PriceCatalog.defaults();
    private final List<String> sizes = new ArrayList<>();
    private ArmRateLimits rateLimits = ArmRateLimits.DEFAULT;
    private Clock clock = Clock.systemUTC();

    private Builder(ComputeManager compute) {
      this.compute = Objects.requireNonNull(compute, "compute");
      for (AzureSize s : AzureSize.table().values()) {
        sizes.add(s.name());
      }
    }

    /** The provider id; default {@code azure-gpu} (the id the built-in price rows use). */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** The resource group VMs are created in (required). */
    public Builder resourceGroup(String resourceGroup) {
      this.resourceGroup = Objects.requireNonNull(resourceGroup, "resourceGroup");
      return this;
    }

    /** The regions offered, for example {@code eastus} (required, at least one). */
    public Builder regions(String... regions) {
      this.regions.addAll(List.of(regions));
      return this;
    }

    /** The subnet (ARM id) VM NICs are created on in {@code region}. */
    public Builder subnet(String region, String subnetId) {
      subnets.put(Objects.requireNonNull(region, "region"), Objects.requireNonNull(subnetId, "subnetId"));
      return this;
    }

    /** The subnet (ARM id) for every region without its own {@link #subnet(String, String)}. */
    public Builder subnet(String subnetId) {
      this.defaultSubnet = Objects.requireNonNull(subnetId, "subnetId");
      return this;
    }

    /**
     * How the configured subnets reach the internet, which VMs without a public IP need to pull
     * images and report their exit code (required unless {@link #externalIp(boolean) externalIp(true)}).
     */
    public Builder subnetEgress(SubnetEgress egress) {
      this.egress = Objects.requireNonNull(egress, "subnetEgress");
      return this;
    }

    /**
     * Whether each VM gets a public IP of its own (created with the VM's NIC and deleted with it);
     * default false. Needs {@code Microsoft.Network/publicIPAddresses/write|join/action} more.
     */
    public Builder externalIp(boolean externalIp) {
      this.externalIp = externalIp;
      return this;
    }

    /** The VM sizes offered, from the built-in table; default all of them. */
    public Builder sizes(String... sizes) {
      this.sizes.clear();
      for (String s : sizes) {
        requireKnownSize("sizes", s);
        this.sizes.add(s);
      }
      return this;
    }

    /** The admin user name; default {@code acceldispatch}. */
    public Builder adminUsername(String name) {
      this.adminUsername = Objects.requireNonNull(name, "adminUsername");
      return this;
    }

    /**
     * The admin's SSH public key, for humans who want to log in; password login is then off.
     * Default: none, and each VM gets a random admin password that is never kept (Azure requires
     * some admin credential; the provider itself never logs in).
     */
    public Builder sshPublicKey(String key) {
      this.sshPublicKey = Objects.requireNonNull(key, "sshPublicKey");
      return this;
    }

    /**
     * One marketplace image ({@code publisher:offer:sku:version}) for every size, replacing the
     * per-size table. Default: the table's image per size (ubuntu-hpc, pinned where the latest one
     * dropped the size's GPU; sources in {@code sizes.csv}). It must have {@code curl}, {@code sed},
     * {@code docker} with the NVIDIA runtime, and a driver for every size offered.
     */
    public Builder image(String urn) {
      this.allImages = ImageUrn.parse("image", urn);
      return this;
    }

    /** The marketplace image ({@code publisher:offer:sku:version}) for one size, over the table. */
    public Builder image(String vmSize, String urn) {
      requireKnownSize("image vmSize", vmSize);
      imageOverrides.put(vmSize.toLowerCase(Locale.ROOT), ImageUrn.parse("image", urn));
      return this;
    }

    /**
     * The ARM id of the user-assigned managed identity every VM gets, with which it writes its
     * exit-code tag (required). It must hold the built-in role Tag Contributor ({@value
     * AzureGpuProvider#TAG_CONTRIBUTOR_ROLE_ID}) on the resource group before any VM starts: a user-assigned
     * identity can be granted it once, ahead of time, which a system-assigned one (created with
     * each VM, with no role) cannot.
     */
    public Builder userAssignedIdentity(String identityResourceId) {
      Objects.requireNonNull(identityResourceId, "userAssignedIdentity");
      if (!identityResourceId.toLowerCase(Locale.ROOT).contains("/providers/microsoft.managedidentity/userassignedidentities/")) {
        throw new IllegalArgumentException("userAssignedIdentity: expected the ARM id of a user-assigned identity,"
            + " /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name},"
            + " got '" + identityResourceId + "'");
      }
      this.userAssignedIdentity = identityResourceId;
      return this;
    }

    /** The ARM endpoint the VM reports to; default {@code https://management.azure.com}. */
    public Builder armEndpoint(String url) {
      this.armEndpoint = Objects.requireNonNull(url, "armEndpoint");
      return this;
    }

    /**
     * How the VM fetches a secret variable with its own identity (for example from Key Vault):
     * given the quoted variable name, shell text that prints the value. Without it, workloads
     * with literal secret values are refused ({@value AzureGpuProvider#SECRETS_UNSUPPORTED});
     * {@link Secret#azureKeyVault} references need no fetcher (the VM reads them with {@code az} and
     * its managed identity).
     */
    public Builder secretFetcher(Function<String, String> fetcher) {
      this.secretFetcher = Objects.requireNonNull(fetcher, "secretFetcher");
      return this;
    }

    /** Prices; default {@link PriceCatalog#defaults()}. */
    public Builder prices(PriceCatalog prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    /**
     * The longest one ARM request, with the SDK's own retries, may take; default 30 s. With
     * {@link AzureGpuProvider#retryPolicy()} in the pipeline it must exceed that policy's 8 s of
     * waits.
     */
    public Builder callTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "callTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive, got " + timeout);
      }
      this.callTimeout = timeout;
      return this;
    }

    /** The client-side ARM token buckets; default {@link ArmRateLimits#DEFAULT}. */
    public Builder rateLimits(ArmRateLimits limits) {
      this.rateLimits = Objects.requireNonNull(limits, "rateLimits");
      return this;
    }

    /**
     * The limits the engine uses with this provider; default 10 calls/s (ARM's write refill rate)
     * and a call timeout of at least three {@link #callTimeout}s, otherwise {@link ProviderLimits#DEFAULT}.
     */
    public Builder limits(ProviderLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** The clock of the token buckets and of HTTP-date {@code Retry-After}s; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    private static void requireKnownSize(String field, String size) {
      if (size == null || AzureSize.find(size) == null) {
        throw new IllegalArgumentException(field + ": unknown size '" + size + "'; known: "
            + AzureSize.table().values().stream().map(AzureSize::name).toList());
      }
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalStateException naming a missing required setting
     * @throws IllegalArgumentException naming a setting that cannot work with the others
     */
    public AzureGpuProvider build() {
      if (resourceGroup == null || resourceGroup.isBlank()) {
        throw new IllegalStateException("resourceGroup is required: the resource group VMs are created in");
      }
      if (regions.isEmpty()) {
        throw new IllegalStateException("regions: at least one region is required, e.g. eastus");
      }
      for (String r : regions) {
        if (!subnets.containsKey(r) && defaultSubnet == null) {
          throw new IllegalStateException("subnet is required: no subnet configured for region " + r
              + " (subnet(id) for every region or subnet(region, id))");
        }
      }
      if (userAssignedIdentity == null) {
        throw new IllegalStateException("userAssignedIdentity is required: the VM writes its exit code as a tag with it,"
            + " so it must hold the role Tag Contributor (" + TAG_CONTRIBUTOR_ROLE_ID + ") on resource group "
            + resourceGroup + "; a system-assigned identity has no role when the VM starts");
      }
      if (!externalIp && egress == null) {
        throw new IllegalStateException("subnetEgress is required: VMs get no public IP, so declare how the subnets reach"
            + " the internet to pull images and report to ARM (" + java.util.Arrays.toString(SubnetEgress.values())
            + "), or set externalIp(true)");
      }
      if (sizes.isEmpty()) {
        throw new IllegalStateException("sizes: at least one size is required");
      }
      checkRetryPolicy();
      return new AzureGpuProvider(this, resolvedSubnets());
    }

    private Map<String, String> resolvedSubnets() {
      Map<String, String> out = new LinkedHashMap<>();
      for (String r : regions) {
        out.put(r, subnets.getOrDefault(r, defaultSubnet));
      }
      return out;
    }

    /** Keeps the SDK's retry waits inside one call timeout (see {@link AzureGpuProvider#retryPolicy()}). */
    private void checkRetryPolicy() {
      var pipeline = compute.serviceClient().getHttpPipeline();
      for (int i = 0; i < pipeline.getPolicyCount(); i++) {
        HttpPipelinePolicy p = pipeline.getPolicy(i);
        if (p instanceof ArmRetryPolicy && callTimeout.compareTo(ArmRetryPolicy.WORST_CASE_WAIT) <= 0) {
          throw new IllegalArgumentException("callTimeout " + callTimeout + " must exceed "
              + ArmRetryPolicy.WORST_CASE_WAIT + ", the longest the pipeline's AzureGpuProvider.retryPolicy() waits between tries");
        }
        if (p instanceof RetryPolicy && !(p instanceof ArmRetryPolicy)) {
          log.warn("the ComputeManager's pipeline has an azure-core RetryPolicy, which waits out any Retry-After"
              + " (ARM asks for tens of seconds): a wait longer than callTimeout {} becomes a transient timeout and the"
              + " retry-after is lost; build the pipeline with AzureGpuProvider.retryPolicy()", callTimeout);
        }
      }
    }
  }
}
