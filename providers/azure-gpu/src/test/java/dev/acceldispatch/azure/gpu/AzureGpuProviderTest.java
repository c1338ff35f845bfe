package dev.acceldispatch.azure.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.ManualClock;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import dev.acceldispatch.testkit.emulator.azure.AzureEmulator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Azure-specific behaviour of the provider, through the real ComputeManager against the emulator. */
class AzureGpuProviderTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static AzureTestWiring wiring;
  private static AzureGpuProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeAll
  static void start() {
    wiring = AzureTestWiring.start(CloudModel.create());
    provider = wiring.providerBuilder().build();
  }

  @AfterAll
  static void stop() {
    wiring.close();
    AzureTestWiring.assertNoThreadsLeft();
  }

  @AfterEach
  void cleanUp() {
    CloudModel m = wiring.emulator.model();
    m.clearFaults().clearStockouts().clearQuotas();
    wiring.emulator.clearRoles().grantRole(AzureTestWiring.IDENTITY, AzureEmulator.ROLE_TAG_CONTRIBUTOR, AzureTestWiring.RESOURCE_GROUP_ID);
    wiring.emulator.capacityErrors("AllocationFailed", AzureEmulator.Delivery.ASYNC);
    for (ProvisionedResource r : created) {
      provider.release(r);
    }
    created.clear();
  }

  private static CloudModel cloud() {
    return wiring.emulator.model();
  }

  private static Offer offer(String size, String region) {
    return provider.offers().stream()
        .filter(o -> o.machineType().equals(size) && o.region().equals(region))
        .findFirst()
        .orElseThrow();
  }

  private static ProvisionRequest request(Offer offer, boolean spot, Workload w, Map<String, String> labels) {
    String job = "j" + SEQ.incrementAndGet() + "x" + Long.toString(System.nanoTime() % 1_000_000, 36);
    return new ProvisionRequest("ad-" + job + "-a1", "fleet-az", job, 1, offer, spot,
        w.withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1")), labels, null);
  }

  private static ProvisionRequest request(boolean spot, Workload w) {
    return request(offer("Standard_NC4as_T4_v3", "eastus"), spot, w, Map.of());
  }

  private ProvisionedResource provision(ProvisionRequest r) {
    ProvisionedResource res = provider.provision(r);
    created.add(res);
    return res;
  }

  private static ResourceStatus awaitTerminal(ProvisionedResource r) {
    return Await.until("terminal " + r.name(), Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      ResourceStatus s = provider.status(r);
      return s.phase().isTerminal() ? s : null;
    });
  }

  @Test
  void offers_everySizeInEveryRegion_withCatalogPricesAndShapes() {
    assertThat(provider.offers()).hasSize(8);
    Offer h100 = offer("Standard_ND96isr_H100_v5", "westus2");
    assertThat(h100.shape().type()).isEqualTo(AcceleratorType.NVIDIA_H100_80GB);
    assertThat(h100.shape().count()).isEqualTo(8);
    assertThat(h100.zone()).isEqualTo("westus2");
    assertThat(h100.onDemandHourly().toDouble()).isEqualTo(98.32);
    assertThat(h100.spotHourly()).isNotNull();
    assertThat(offer("Standard_NC40ads_H100_v5", "eastus").shape().type()).isEqualTo(AcceleratorType.NVIDIA_H100_NVL_94GB);
    assertThat(offer("Standard_NC24ads_A100_v4", "eastus").shape().type()).isEqualTo(AcceleratorType.NVIDIA_A100_80GB);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "AllocationFailed, SYNC", "AllocationFailed, ASYNC",
    "ZonalAllocationFailed, SYNC", "ZonalAllocationFailed, ASYNC",
    "OverconstrainedAllocationRequest, SYNC", "OverconstrainedAllocationRequest, ASYNC",
    "SkuNotAvailable, SYNC", "SkuNotAvailable, ASYNC"
  })
  void provision_capacityError_isCapacityUnavailableWithAzureCodeAndMessage(String code, AzureEmulator.Delivery delivery) {
    wiring.emulator.capacityErrors(code, delivery);
    cloud().stockout(CloudModel.ANY, "nvidia-t4", Duration.ofHours(1));
    ProvisionRequest r = request(false, Workload.script("exit 0").build());
    int opsBefore = cloud().calls(AzureEmulator.OP_OPERATIONS).size();
    ProviderException e;
    if (delivery == AzureEmulator.Delivery.SYNC) {
      e = catchProvider(() -> provider.provision(r));
      assertThat(wiring.emulator.tags(r.resourceName())).isEmpty();
    } else {
      ProvisionedResource res = provision(r);
      e = catchProvider(() -> provider.status(res));
      // the error was read from the Azure-AsyncOperation body
      assertThat(cloud().calls(AzureEmulator.OP_OPERATIONS).size()).isGreaterThan(opsBefore);
    }
    assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
    assertThat(e.cloudCode()).isEqualTo(code);
    assertThat(e.cloudMessage()).isNotBlank();
    assertThat(e.zone()).contains("eastus");
  }

  @Test
  void provision_coresQuotaExceeded_isRegionalQuotaWithAzureMessage() {
    cloud().setQuota("eastus", "standardNCASv3_T4Family", 0);
    ProviderException e = catchProvider(() -> provider.provision(request(false, Workload.script("exit 0").build())));
    assertThat(e).isInstanceOfSatisfying(ProviderException.QuotaExceeded.class,
        q -> assertThat(q.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.REGION));
    assertThat(e.cloudCode()).isEqualTo("OperationNotAllowed");
    assertThat(e.cloudMessage()).contains("Standard NCASv3_T4 Family Cores quota").contains("Location: eastus");
  }

  @Test
  void status_throttledWithRetryAfter_sdkWaitsAtLeastRetryAfterBeforeTheNextRequest() {
    ProvisionedResource res = provision(request(false, Workload.script("exit 0").build()));
    cloud().injectFault(AzureEmulator.OP_GET, Fault.throttled(Duration.ofSeconds(1)), 1);
    int before = cloud().calls(AzureEmulator.OP_GET).size();
    ResourceStatus s = provider.status(res);
    assertThat(s.phase()).isIn(ResourceStatus.Phase.PENDING, ResourceStatus.Phase.RUNNING, ResourceStatus.Phase.SUCCEEDED);
    List<CloudModel.Call> gets = cloud().calls(AzureEmulator.OP_GET);
    assertThat(gets).hasSize(before + 2);
    Duration gap = Duration.between(gets.get(before).at(), gets.get(before + 1).at());
    assertThat(gap).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void status_throttledWithoutSdkRetries_isThrottledCarryingRetryAfter() {
    try (AzureTestWiring bare = AzureTestWiring.start(CloudModel.create(), new com.azure.core.http.policy.RetryPolicy(
        new com.azure.core.http.policy.FixedDelay(0, Duration.ofMillis(1))))) {
      AzureGpuProvider p = bare.providerBuilder().build();
      bare.emulator.model().injectFault(AzureEmulator.OP_GET, Fault.throttled(Duration.ofSeconds(7)), 1);
      ProviderException e = catchProvider(() -> p.status(ProvisionedResource.of(p.id(), "ad-nothing-a1", "eastus")));
      assertThat(e).isInstanceOfSatisfying(ProviderException.Throttled.class,
          t -> assertThat(t.retryAfter()).contains(Duration.ofSeconds(7)));
      assertThat(e.cloudCode()).isEqualTo("SubscriptionRequestsThrottled");
    }
  }

  @Test
  void provision_clientBucketEmpty_throttlesWithoutSendingARequest() {
    ManualClock clock = new ManualClock();
    AzureGpuProvider p = wiring.providerBuilder()
        .rateLimits(new ArmRateLimits(250, 25, 1, 0.5, 200, 10))
        .clock(clock)
        .build();
    ProvisionRequest first = request(false, Workload.script("exit 0").build());
    created.add(p.provision(first));
    int puts = cloud().calls(AzureEmulator.OP_PUT).size();
    ProviderException e = catchProvider(() -> p.provision(request(false, Workload.script("exit 0").build())));
    assertThat(e).isInstanceOfSatisfying(ProviderException.Throttled.class,
        t -> assertThat(t.retryAfter()).contains(Duration.ofSeconds(2)));
    assertThat(cloud().calls(AzureEmulator.OP_PUT)).hasSize(puts);
    clock.advance(Duration.ofSeconds(2));
    created.add(p.provision(request(false, Workload.script("exit 0").build())));
    assertThat(cloud().calls(AzureEmulator.OP_PUT)).hasSize(puts + 1);
  }

  @Test
  void provision_lostPutResponseWithoutSdkRetries_isTransientThenRetryAdoptsTheOneVm() {
    try (AzureTestWiring bare = AzureTestWiring.start(CloudModel.create(), new com.azure.core.http.policy.RetryPolicy(
        new com.azure.core.http.policy.FixedDelay(0, Duration.ofMillis(1))))) {
      AzureGpuProvider p = bare.providerBuilder().build();
      CloudModel m = bare.emulator.model();
      ProvisionRequest r = request(false, Workload.script("exit 0").build());
      m.injectFault(AzureEmulator.OP_PUT, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
      ProviderException e = catchProvider(() -> p.provision(r));
      assertThat(e).isInstanceOf(ProviderException.Transient.class);
      assertThat(e.cloudCode()).isEqualTo("InternalServerError");
      ProvisionedResource res = p.provision(r);
      assertThat(res.name()).isEqualTo(r.resourceName());
      assertThat(m.allocations()).isEqualTo(1);
      assertThat(m.calls(AzureEmulator.OP_PUT)).hasSize(1);
      p.release(res);
    }
  }

  @Test
  void provision_lostPutResponseWithSdkRetry_conditionalPutAdoptsInsteadOfDuplicating() {
    ProvisionRequest r = request(false, Workload.script("exit 0").build());
    long before = cloud().allocations();
    cloud().injectFault(AzureEmulator.OP_PUT, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    ProvisionedResource res = provision(r);
    assertThat(res.name()).isEqualTo(r.resourceName());
    assertThat(cloud().allocations() - before).isEqualTo(1);
    List<CloudModel.Call> puts = cloud().calls(AzureEmulator.OP_PUT).stream().filter(c -> c.target().equals(r.resourceName())).toList();
    assertThat(puts).hasSize(2); // the SDK retried; If-None-Match: * made the retry a 412, not an overwrite
  }

  @Test
  void release_deletesTheVmWithItsNicAndOsDisk_andIsIdempotent() {
    ProvisionRequest r = request(false, Workload.script("sleep 1").build());
    ProvisionedResource res = provider.provision(r);
    assertThat(wiring.emulator.helperResources().keySet())
        .anyMatch(id -> id.endsWith("/networkInterfaces/" + r.resourceName() + "-nic"))
        .anyMatch(id -> id.contains("/disks/" + r.resourceName()));
    provider.release(res);
    provider.release(res);
    assertThat(provider.status(res).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    // ARM deletes in the background; the NIC and disk go with the VM when its delete ends.
    Await.until("delete ended", Duration.ofSeconds(10), Duration.ofMillis(50),
        () -> wiring.emulator.tags(r.resourceName()).isEmpty() ? true : null);
    assertThat(wiring.emulator.helperResources().keySet()).noneMatch(id -> id.contains(r.resourceName()));
    assertThat(cloud().find(r.resourceName())).isEmpty();
  }

  @Test
  void provision_spotOffer_requestsSpotPriorityEvictionDeleteAndMaxPriceMinusOne() {
    ProvisionRequest r = request(true, Workload.script("exit 0").build());
    provision(r);
    String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
    assertThat(body).contains("\"priority\":\"Spot\"").contains("\"evictionPolicy\":\"Delete\"").contains("\"maxPrice\":-1");
    assertThat(body).contains("\"deleteOption\":\"Delete\"").contains(AzureTestWiring.SUBNET);
    assertThat(cloud().find(r.resourceName()).orElseThrow().request().spot()).isTrue();
  }

  @Test
  void status_spotVmEvicted_isPreemptedAndLeavesNothingBehind() {
    ProvisionRequest r = request(true, Workload.script("exit 0").build());
    cloud().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource res = provision(r);
    Await.until("running", Duration.ofSeconds(20), Duration.ofMillis(100),
        () -> provider.status(res).phase() == ResourceStatus.Phase.RUNNING ? true : null);
    assertThat(cloud().preempt(r.resourceName())).isTrue();
    ResourceStatus s = provider.status(res);
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(s.exitCode()).isNull();
    assertThat(wiring.emulator.helperResources().keySet()).noneMatch(id -> id.contains(r.resourceName()));
  }

  @Test
  void status_spotEvicted_releaseThenNextAttemptInAnotherRegion_runsToSuccess() {
    // The engine in core is not written yet; this drives its recovery steps by hand: preempted,
    // released, requeued on the next offer (another region), which runs to its end.
    ProvisionRequest first = request(offer("Standard_NC4as_T4_v3", "eastus"), true, Workload.script("exit 0").build(), Map.of());
    cloud().planWorkload(first.resourceName(), Duration.ofMinutes(5), 0);
    ProvisionedResource a1 = provision(first);
    Await.until("running", Duration.ofSeconds(20), Duration.ofMillis(100),
        () -> provider.status(a1).phase() == ResourceStatus.Phase.RUNNING ? true : null);
    cloud().preempt(first.resourceName());
    assertThat(provider.status(a1).phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    provider.release(a1);
    ProvisionRequest second = new ProvisionRequest(first.resourceName().replace("-a1", "-a2"), first.fleetId(),
        first.jobId(), 2, offer("Standard_NC4as_T4_v3", "westus2"), true, first.workload(), Map.of(), null);
    ResourceStatus end = awaitTerminal(provision(second));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(cloud().find(second.resourceName()).orElseThrow().request().region()).isEqualTo("westus2");
    assertThat(provider.listOwned(first.fleetId())).extracting(ProvisionedResource::name)
        .contains(second.resourceName()).doesNotContain(first.resourceName());
  }

  @Test
  void status_exitCodeTagWrittenByTheVm_endsTheAttemptWithThatCode() {
    ProvisionRequest r = request(false, Workload.script("echo hi; exit 42").build());
    ResourceStatus end = awaitTerminal(provision(r));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(42);
    assertThat(wiring.emulator.tags(r.resourceName()).orElseThrow()).containsEntry(AzureGpuProvider.EXIT_CODE_TAG, "42");
    ScriptSandbox.Result run = wiring.emulator.observedWorkload(r.resourceName()).orElseThrow();
    assertThat(run.stdout()).contains("hi");
    assertThat(run.file("curl.log"))
        .contains("GET http://169.254.169.254/metadata/identity/oauth2/token")
        .contains("PATCH https://management.azure.com/subscriptions/" + AzureTestWiring.SUBSCRIPTION);
  }

  @Test
  void provision_hostileScriptAndEnv_runVerbatimInTheCustomData() {
    String hostileScript = "printf '%s|' \"$HOSTILE\" > out.txt; echo \"it's $(echo ok)\" >> out.txt; exit 0";
    Workload w = Workload.script(hostileScript).env("HOSTILE", "$(touch pwned)`touch pwned2`'\"\n✓ ü").build();
    ProvisionRequest r = request(false, w);
    ResourceStatus end = awaitTerminal(provision(r));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    ScriptSandbox.Result run = wiring.emulator.observedWorkload(r.resourceName()).orElseThrow();
    assertThat(run.file("out.txt")).isEqualTo("$(touch pwned)`touch pwned2`'\"\n✓ ü|it's ok\n");
    assertThat(run.file("pwned")).isNull();
    assertThat(run.file("pwned2")).isNull();
  }

  @Test
  void provision_secretWithoutFetcher_isRefusedBeforeAnyCall_namingTheVariableOnly() {
    int calls = cloud().calls().size();
    Workload w = Workload.script("exit 0").secretEnv("API_TOKEN", Secret.of("hunter2-value")).build();
    assertThatThrownBy(() -> provider.provision(request(false, w)))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudCode()).isEqualTo(AzureGpuProvider.SECRETS_UNSUPPORTED))
        .hasMessageContaining("API_TOKEN")
        .hasMessageNotContaining("hunter2-value");
    assertThat(cloud().calls()).hasSize(calls);
  }

  @Test
  void deliverableSecretKinds_keyVaultAlways_valuesOnlyWithAFetcher() {
    AzureGpuProvider p = wiring.providerBuilder().secretFetcher(name -> "fetch-secret " + name).build();
    assertThat(provider.deliverableSecretKinds()).containsExactly(Secret.Kind.AZURE_KEY_VAULT);
    assertThat(p.deliverableSecretKinds()).containsExactlyInAnyOrder(Secret.Kind.AZURE_KEY_VAULT,
        Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
  }

  @Test
  void provision_secretWithFetcher_customDataFetchesItAndNeverHoldsTheValue() {
    AzureGpuProvider p = wiring.providerBuilder().secretFetcher(name -> "fetch-secret " + name).build();
    Workload w = Workload.script("exit 0").secretEnv("API_TOKEN", Secret.of("hunter2-value")).build();
    String script = p.customData(w, "eastus");
    assertThat(script).contains("export API_TOKEN=\"$(fetch-secret 'API_TOKEN')\"").doesNotContain("hunter2-value");
  }

  @Test
  void provision_keyVaultReferenceWithoutFetcher_vmResolvesItAndASecretManagerOneIsRefused() {
    Workload w = Workload.script("exit 0")
        .secretEnv("API_TOKEN", Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/api-token")).build();
    assertThat(provider.customData(w, "eastus"))
        .contains("az keyvault secret show --id 'https://ml-vault.vault.azure.net/secrets/api-token' --query value --output tsv");
    Workload google = Workload.script("exit 0")
        .secretEnv("API_TOKEN", Secret.googleSecretManager("projects/p/secrets/api-token")).build();
    assertThatThrownBy(() -> provider.customData(google, "eastus"))
        .isInstanceOf(ProviderException.InvalidRequest.class)
        .hasMessageContaining("Google Secret Manager 'projects/p/secrets/api-token/versions/latest'");
  }

  @Test
  void provision_labels_areSanitisedTagsKeepingFleetJobAndAttempt() {
    ProvisionRequest r = request(offer("Standard_NC4as_T4_v3", "eastus"), false, Workload.script("exit 0").build(),
        Map.of("team/ml", "research<1>", "cost&center", "x".repeat(300)));
    provision(r);
    Map<String, String> tags = wiring.emulator.tags(r.resourceName()).orElseThrow();
    assertThat(tags)
        .containsEntry(ProvisionRequest.LABEL_FLEET, "fleet-az")
        .containsEntry(ProvisionRequest.LABEL_JOB, r.jobId())
        .containsEntry(ProvisionRequest.LABEL_ATTEMPT, "1")
        .containsEntry("team_ml", "research<1>")
        .containsKey("cost_center");
    assertThat(tags.get("cost_center")).hasSize(256);
    assertThat(provider.listOwned("fleet-az")).extracting(ProvisionedResource::name).contains(r.resourceName());
  }

  @Test
  void provision_nameTakenByAnotherJobsVm_isNameConflictAndNothingIsAdopted() {
    ProvisionRequest mine = request(false, Workload.script("exit 0").build());
    provision(mine);
    ProvisionRequest other = new ProvisionRequest(mine.resourceName(), mine.fleetId(), "someone-else", 1, mine.offer(),
        false, mine.workload(), Map.of(), null);
    ProviderException e = catchProvider(() -> provider.provision(other));
    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(e.cloudCode()).isEqualTo("NameConflict");
  }

  @Test
  void provision_withoutSshKey_sendsAThrowawayPasswordThatIsNeverReturned() {
    AzureGpuProvider p = AzureGpuProvider.builder(wiring.compute)
        .resourceGroup(AzureTestWiring.RESOURCE_GROUP).regions("eastus").subnet(AzureTestWiring.SUBNET)
        .subnetEgress(SubnetEgress.NAT_GATEWAY).userAssignedIdentity(AzureTestWiring.IDENTITY).build();
    ProvisionRequest r = request(false, Workload.script("exit 0").build());
    created.add(p.provision(r));
    String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
    assertThat(body).contains("\"adminPassword\":\"").contains("\"disablePasswordAuthentication\":false");
    var vm = wiring.compute.serviceClient().getVirtualMachines().getByResourceGroup(AzureTestWiring.RESOURCE_GROUP, r.resourceName());
    assertThat(vm.osProfile().adminPassword()).isNull();
  }

  @Test
  void status_responseSlowerThanCallTimeout_isTransientTimeout() {
    try (AzureTestWiring bare = AzureTestWiring.start(CloudModel.create(), new com.azure.core.http.policy.RetryPolicy(
        new com.azure.core.http.policy.FixedDelay(0, Duration.ofMillis(1))))) {
      AzureGpuProvider p = bare.providerBuilder().callTimeout(Duration.ofMillis(300)).build();
      bare.emulator.model().injectFault(AzureEmulator.OP_GET, Fault.slow(Duration.ofMillis(1500)), 1);
      ProviderException e = catchProvider(() -> p.status(ProvisionedResource.of(p.id(), "ad-slow-a1", "eastus")));
      assertThat(e).isInstanceOf(ProviderException.Transient.class);
      assertThat(e.cloudCode()).isEqualTo("Timeout");
    }
  }

  @Test
  void limits_areShapedToArmWritesAndCoverThreeRequests() {
    assertThat(provider.limits().callsPerSecond()).isEqualTo(10);
    AzureGpuProvider slow = wiring.providerBuilder().callTimeout(Duration.ofMinutes(1)).build();
    assertThat(slow.limits().callTimeout()).isGreaterThanOrEqualTo(Duration.ofMinutes(3));
  }

  @Test
  void calls_permissionDenied_isPermissionDeniedWithAzureCode() {
    cloud().injectFault(AzureEmulator.OP_GET, Fault.of(Fault.Kind.PERMISSION_DENIED), 1);
    ProviderException e = catchProvider(() -> provider.status(ProvisionedResource.of(provider.id(), "ad-x-a1", "eastus")));
    assertThat(e).isInstanceOfSatisfying(ProviderException.PermissionDenied.class, d -> assertThat(d.unauthenticated()).isFalse());
    assertThat(e.cloudCode()).isEqualTo("AuthorizationFailed");
  }

  @Test
  void provision_offerOfAnotherProvider_isInvalidRequest() {
    Offer foreign = Offer.of("gcp-gpu", "us-central1", "us-central1-a",
        offer("Standard_NC4as_T4_v3", "eastus").shape(), "n1-standard-4", dev.acceldispatch.Money.usd("1"), null);
    ProviderException e = catchProvider(() -> provider.provision(request(foreign, false, Workload.script("exit 0").build(), Map.of())));
    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
  }

  /**
   * Issue 14, items 8 to 12: what the real Azure API refuses or produces and the provider got
   * wrong, each through the real ComputeManager against the strict emulator.
   */
  @Nested
  class Issue14Regressions {
    private ProvisionRequest issue14Request(String size, Map<String, String> labels) {
      return request(offer(size, "eastus"), false, Workload.script("echo work").build(), labels);
    }

    private ProvisionedResource provisionWith(AzureGpuProvider p, ProvisionRequest r) {
      ProvisionedResource res = p.provision(r);
      created.add(res);
      return res;
    }

    // ---- 8. the exit code needs an identity with a role; a VM that cannot report powers off ----------

    @Test
    void build_withoutUserAssignedIdentity_isRefusedNamingTheFieldAndTheRole() {
      AzureGpuProvider.Builder b = AzureGpuProvider.builder(wiring.compute).resourceGroup("rg").regions("eastus")
          .subnet(AzureTestWiring.SUBNET).subnetEgress(SubnetEgress.NAT_GATEWAY);
      assertThatThrownBy(b::build)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("userAssignedIdentity")
          .hasMessageContaining("Tag Contributor")
          .hasMessageContaining(AzureGpuProvider.TAG_CONTRIBUTOR_ROLE_ID);
      assertThatThrownBy(() -> b.userAssignedIdentity("/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/x"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("userAssignedIdentity");
    }

    @Test
    void provision_vmIdentity_isTheUserAssignedOneAndTheReporterAsksImdsForItsToken() {
      ProvisionRequest r = issue14Request("Standard_NC4as_T4_v3", Map.of());
      provision(r);
      String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
      assertThat(body).contains("\"type\":\"UserAssigned\"").contains(AzureTestWiring.IDENTITY).doesNotContain("SystemAssigned");
      assertThat(wiring.emulator.customData(r.resourceName()).orElseThrow()).contains("msi_res_id=").contains("shutdown -h now");
    }

    @Test
    void status_identityWithoutTagContributor_vmPowersItselfOffAndEndsFailedInsteadOfRunningUntilTheJobTimeout() {
      wiring.emulator.clearRoles();
      ProvisionRequest r = issue14Request("Standard_NC4as_T4_v3", Map.of());
      ResourceStatus end = awaitTerminal(provision(r));

      assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
      assertThat(end.exitCode()).isEqualTo(-1);
      assertThat(end.detail()).contains("PowerState/stopped").contains("powered itself off").contains("Tag Contributor");
      assertThat(wiring.emulator.poweredOff(r.resourceName())).isTrue();
      ScriptSandbox.Result run = wiring.emulator.observedWorkload(r.resourceName()).orElseThrow();
      assertThat(run.file("tags-refused.json")).contains("AuthorizationFailed");
      // it kept trying with backoff (a role can take minutes to reach ARM) before giving up
      assertThat(run.file("sleep.log").lines()).hasSize(12).startsWith("5", "10", "20", "40", "60");
      assertThat(run.stderr()).contains("could not write the exit-code tag");
      assertThat(wiring.emulator.tags(r.resourceName()).orElseThrow()).doesNotContainKey(AzureGpuProvider.EXIT_CODE_TAG);
    }

    @Test
    void status_identityWithTheRole_reportsTheExitCodeAtOnceThenPowersOff() {
      ProvisionRequest r = issue14Request("Standard_NC4as_T4_v3", Map.of());
      ResourceStatus end = awaitTerminal(provision(r));
      assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
      ScriptSandbox.Result run = wiring.emulator.observedWorkload(r.resourceName()).orElseThrow();
      assertThat(run.file("sleep.log")).isNull();
      assertThat(run.file("tags-refused.json")).isNull();
      assertThat(wiring.emulator.poweredOff(r.resourceName())).isTrue();
    }

    // ---- 9. at most 50 tags at the end of the operation ----------------------------------------------

    @Test
    void provision_sixtyLabels_createsWith49TagsSoTheExitCodeTagStillFits() {
      Map<String, String> labels = new LinkedHashMap<>();
      for (int i = 0; i < 60; i++) {
        labels.put("label-" + i, "v" + i);
      }
      ProvisionRequest r = issue14Request("Standard_NC4as_T4_v3", labels);
      ProvisionedResource res = provision(r);
      Map<String, String> atCreate = wiring.emulator.tags(r.resourceName()).orElseThrow();
      assertThat(atCreate).hasSize(49)
          .containsKeys(ProvisionRequest.LABEL_FLEET, ProvisionRequest.LABEL_JOB, ProvisionRequest.LABEL_ATTEMPT);

      ResourceStatus end = awaitTerminal(res);

      assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
      assertThat(wiring.emulator.tags(r.resourceName()).orElseThrow()).hasSize(50).containsEntry(AzureGpuProvider.EXIT_CODE_TAG, "0");
    }

    // ---- 10. throttling through the SDK's retry policy -------------------------------------------------

    @Test
    void status_429WithRetryAfter17sThroughTheRecommendedPipeline_isThrottledCarrying17sNotATimeout() {
      wiring.emulator.model().injectFault(AzureEmulator.OP_GET, Fault.throttled(Duration.ofSeconds(17)), 1);
      long before = System.nanoTime();
      ProviderException e = catchProvider(() -> provider.status(ProvisionedResource.of(provider.id(), "ad-throttled-a1", "eastus")));
      assertThat(e).isInstanceOfSatisfying(ProviderException.Throttled.class,
          t -> assertThat(t.retryAfter()).contains(Duration.ofSeconds(17)));
      assertThat(e.cloudCode()).isEqualTo("SubscriptionRequestsThrottled");
      // the SDK did not sit out the 17 s inside the provider's call
      assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(10));
      assertThat(wiring.emulator.model().calls(AzureEmulator.OP_GET).stream().filter(c -> c.target().equals("ad-throttled-a1"))).hasSize(1);
    }

    @Test
    void build_recommendedPipelineWithACallTimeoutItsWaitsCanOutlast_isRefused() {
      assertThatThrownBy(() -> wiring.providerBuilder().callTimeout(Duration.ofSeconds(8)).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("callTimeout")
          .hasMessageContaining("retryPolicy()");
    }

    // ---- 11. image per VM size --------------------------------------------------------------------

    @Test
    void provision_eachSize_getsTheImageOfTheSizeTable_andAnOverrideWins() {
      ProvisionRequest t4 = issue14Request("Standard_NC4as_T4_v3", Map.of());
      ProvisionRequest h100 = issue14Request("Standard_ND96isr_H100_v5", Map.of());
      provision(t4);
      provision(h100);
      assertThat(imageOf(t4)).isEqualTo("microsoft-dsvm:ubuntu-hpc:2204:22.04.2024091701");
      assertThat(imageOf(h100)).isEqualTo("microsoft-dsvm:ubuntu-hpc:2204:latest");

      AzureGpuProvider custom = wiring.providerBuilder().image("Standard_NC4as_T4_v3", "Canonical:ubuntu-24_04-lts:server:latest").build();
      ProvisionRequest overridden = issue14Request("Standard_NC4as_T4_v3", Map.of());
      provisionWith(custom, overridden);
      assertThat(imageOf(overridden)).isEqualTo("Canonical:ubuntu-24_04-lts:server:latest");
    }

    @Test
    void image_malformedOrForAnUnknownSize_isRefusedNamingTheField() {
      assertThatThrownBy(() -> wiring.providerBuilder().image("ubuntu-hpc:2204"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image").hasMessageContaining("publisher:offer:sku:version");
      assertThatThrownBy(() -> wiring.providerBuilder().image("Standard_Nope", "a:b:c:d"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Standard_NC4as_T4_v3");
    }

    private static String imageOf(ProvisionRequest r) {
      var vm = wiring.compute.serviceClient().getVirtualMachines().getByResourceGroup(AzureTestWiring.RESOURCE_GROUP, r.resourceName());
      var ref = vm.storageProfile().imageReference();
      return ref.publisher() + ":" + ref.offer() + ":" + ref.sku() + ":" + ref.version();
    }

    // ---- 12. no public IP: egress and identity declared, or no build ---------------------------------

    @Test
    void build_withoutSubnetEgress_isRefusedNamingIt_unlessVmsGetAPublicIp() {
      AzureGpuProvider.Builder b = AzureGpuProvider.builder(wiring.compute).resourceGroup("rg").regions("eastus")
          .subnet(AzureTestWiring.SUBNET).userAssignedIdentity(AzureTestWiring.IDENTITY);
      assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("subnetEgress").hasMessageContaining("NAT_GATEWAY");
      assertThat(b.externalIp(true).build()).isNotNull();
    }

    @Test
    void build_missingRequiredSettings_areIllegalStateNamingEach() {
      assertThatThrownBy(() -> AzureGpuProvider.builder(wiring.compute).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("resourceGroup");
      assertThatThrownBy(() -> AzureGpuProvider.builder(wiring.compute).resourceGroup("rg").build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("regions");
      assertThatThrownBy(() -> AzureGpuProvider.builder(wiring.compute).resourceGroup("rg").regions("eastus", "westus2")
              .subnet("eastus", AzureTestWiring.SUBNET).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("subnet").hasMessageContaining("westus2");
    }

    @Test
    void provision_externalIp_declaresAPublicIpDeletedWithTheVm() {
      AzureGpuProvider p = wiring.providerBuilder().externalIp(true).build();
      ProvisionRequest r = issue14Request("Standard_NC4as_T4_v3", Map.of());
      provisionWith(p, r);
      String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
      assertThat(body).contains("\"publicIPAddressConfiguration\":{\"name\":\"" + r.resourceName() + "-ip\"")
          .contains("\"deleteOption\":\"Delete\"");
      ProvisionRequest none = issue14Request("Standard_NC4as_T4_v3", Map.of());
      provision(none);
      assertThat(wiring.emulator.createBody(none.resourceName()).orElseThrow()).doesNotContain("publicIPAddressConfiguration");
    }
  }

  private static ProviderException catchProvider(java.util.function.Supplier<?> call) {
    try {
      call.get();
    } catch (ProviderException e) {
      return e;
    }
    throw new AssertionError("expected a ProviderException");
  }
}
