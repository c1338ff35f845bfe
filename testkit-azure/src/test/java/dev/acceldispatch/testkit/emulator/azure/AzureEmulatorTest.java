package dev.acceldispatch.testkit.emulator.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.rest.Response;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.util.FluxUtil;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.InstanceViewStatus;
import com.azure.resourcemanager.compute.models.InstanceViewTypes;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.resources.fluentcore.utils.ResourceManagerUtils;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The emulator against the real SDK client, with no retry policy so every answer is seen as sent. */
class AzureEmulatorTest {
  private static final String RG = "rg";
  private static AzureEmulator emulator;
  private static ComputeManager compute;
  private static VirtualMachinesClient vms;
  private static HttpPipeline pipeline;

  @BeforeAll
  static void start() {
    emulator = AzureEmulator.create(CloudModel.create()).start();
    pipeline = emulator.pipeline();
    compute = ComputeManager.authenticate(pipeline, emulator.profile("sub"));
    vms = compute.serviceClient().getVirtualMachines();
  }

  @AfterAll
  static void stop() {
    emulator.close();
    reactor.core.scheduler.Schedulers.shutdownNow();
    Await.until("no emulator thread left", Duration.ofSeconds(5), Duration.ofMillis(20),
        () -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("azure-emulator-")) ? true : null);
  }

  @AfterEach
  void reset() {
    emulator.model().clearFaults().clearQuotas().clearStockouts();
    emulator.clearRoles();
    emulator.capacityErrors("AllocationFailed", AzureEmulator.Delivery.ASYNC);
    for (VirtualMachineInner vm : vms.listByResourceGroup(RG)) {
      vms.deleteWithResponseAsync(RG, vm.name(), null).block();
    }
  }

  private static VirtualMachineInner vm(String size, boolean spot, String script) {
    VirtualMachineInner vm = new VirtualMachineInner()
        .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString(size)))
        .withOsProfile(new OSProfile().withComputerName("c").withAdminUsername("u")
            .withCustomData(Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8))));
    if (spot) {
      vm.withPriority(VirtualMachinePriorityTypes.SPOT).withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE);
    }
    vm.withLocation("eastus");
    vm.withTags(Map.of("k", "v"));
    return vm;
  }

  private static Response<?> put(String name, VirtualMachineInner vm, String ifNoneMatch) {
    return vms.createOrUpdateWithResponseAsync(RG, name, vm, null, ifNoneMatch)
        .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).thenReturn(r))
        .block();
  }

  private static String operationStatus(String url) {
    try (HttpResponse op = pipeline.send(new HttpRequest(HttpMethod.GET, url)).block()) {
      return op.getBodyAsString().block();
    }
  }

  private static String power(String name) {
    List<InstanceViewStatus> s = vms.instanceView(RG, name).statuses();
    return s.stream().map(InstanceViewStatus::code).filter(c -> c.startsWith("PowerState/")).findFirst().orElse(null);
  }

  @Test
  void put_newVm_answers201CreatingWithAsyncOperation_thenSucceedsAndRuns() {
    Response<?> r = put("vm-a", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\ntrue\n"), "*");
    assertThat(r.getStatusCode()).isEqualTo(201);
    String async = r.getHeaders().getValue(HttpHeaderName.fromString("Azure-AsyncOperation"));
    assertThat(async).contains("/providers/Microsoft.Compute/locations/eastus/operations/");
    assertThat(r.getHeaders().getValue(HttpHeaderName.fromString("x-ms-ratelimit-remaining-subscription-writes"))).isNotNull();
    Await.until("running", Duration.ofSeconds(10), Duration.ofMillis(50),
        () -> "PowerState/running".equals(power("vm-a")) ? true : null);
    VirtualMachineInner got = vms.getByResourceGroupWithResponse(RG, "vm-a", InstanceViewTypes.INSTANCE_VIEW, com.azure.core.util.Context.NONE).getValue();
    assertThat(got.provisioningState()).isEqualTo("Succeeded");
    assertThat(got.osProfile().customData()).isNull();
    assertThat(got.tags()).containsEntry("k", "v");
    assertThat(operationStatus(async)).as("first poll").contains("\"status\":\"InProgress\"");
    assertThat(operationStatus(async)).contains("\"status\":\"Succeeded\"");
  }

  @Test
  void put_existingWithIfNoneMatch_is412_andOneAllocation() {
    put("vm-b", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*");
    assertThatThrownBy(() -> put("vm-b", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(412);
          assertThat(e.getValue().getCode()).isEqualTo("PreconditionFailed");
        });
    assertThat(emulator.model().allocations()).isPositive();
    assertThat(emulator.model().resources().stream().filter(x -> x.name().equals("vm-b"))).hasSize(1);
  }

  @Test
  void put_quotaZero_is409OperationNotAllowedWithCoresMessage() {
    emulator.model().setQuota(CloudModel.GLOBAL, CloudModel.ANY, 0);
    assertThatThrownBy(() -> put("vm-c", vm("Standard_NC24ads_A100_v4", false, "#!/bin/sh\n"), "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(409);
          assertThat(e.getValue().getCode()).isEqualTo("OperationNotAllowed");
          assertThat(e.getValue().getMessage()).contains("Standard NCADSA100v4 Family Cores quota").contains("Additional Required: 24");
        });
  }

  @Test
  void put_stockoutAsync_vmFailedWithAllocationErrorInOperationAndInstanceView() {
    emulator.model().stockout(CloudModel.ANY, CloudModel.ANY, Duration.ofHours(1));
    emulator.capacityErrors("ZonalAllocationFailed", AzureEmulator.Delivery.ASYNC);
    Response<?> r = put("vm-d", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*");
    assertThat(r.getStatusCode()).isEqualTo(201);
    String async = r.getHeaders().getValue(HttpHeaderName.fromString("Azure-AsyncOperation"));
    assertThat(operationStatus(async)).as("first poll").contains("\"status\":\"InProgress\"");
    assertThat(operationStatus(async)).contains("\"status\":\"Failed\"").contains("\"code\":\"ZonalAllocationFailed\"");
    assertThat(vms.getByResourceGroup(RG, "vm-d").provisioningState()).isEqualTo("Failed");
    assertThat(vms.instanceView(RG, "vm-d").statuses().get(0).code()).isEqualTo("ProvisioningState/failed/ZonalAllocationFailed");
  }

  @Test
  void get_missingVm_is404ResourceNotFound_andDeleteOfMissing_succeeds() {
    assertThatThrownBy(() -> vms.getByResourceGroup(RG, "nope"))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(404);
          assertThat(e.getValue().getCode()).isEqualTo("ResourceNotFound");
        });
    Response<?> del = vms.deleteWithResponseAsync(RG, "nope", null)
        .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).thenReturn(r)).block();
    assertThat(del.getStatusCode()).isEqualTo(204);
  }

  @Test
  void spotDeallocatePolicy_preempted_showsPowerStateDeallocated() {
    put("vm-e", vm("Standard_NC4as_T4_v3", true, "#!/bin/sh\n"), "*");
    emulator.model().preempt("vm-e");
    assertThat(power("vm-e")).isEqualTo("PowerState/deallocated");
  }

  @Test
  void injectedThrottle_is429WithRetryAfterSeconds() {
    emulator.model().injectFault(AzureEmulator.OP_LIST, Fault.throttled(Duration.ofMillis(1500)), 1);
    assertThatThrownBy(() -> vms.listByResourceGroup(RG).stream().count())
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(429);
          assertThat(e.getResponse().getHeaders().getValue(HttpHeaderName.RETRY_AFTER)).isEqualTo("2");
        });
  }

  @Test
  void loseResponse_onPut_createsTheVmButAnswers500() {
    emulator.model().injectFault(AzureEmulator.OP_PUT, Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    assertThatThrownBy(() -> put("vm-f", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> assertThat(e.getResponse().getStatusCode()).isEqualTo(500));
    assertThat(emulator.model().find("vm-f")).isPresent();
    assertThat(vms.getByResourceGroup(RG, "vm-f").name()).isEqualTo("vm-f");
  }

  @Test
  void lroCreate_throughTheSdkPoller_completesWithShortPolls() {
    ResourceManagerUtils.InternalRuntimeContext.setDelayProvider(d -> Duration.ofMillis(20));
    VirtualMachineInner done = vms.createOrUpdate(RG, "vm-g", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"));
    assertThat(done.provisioningState()).isEqualTo("Succeeded");
    assertThat(emulator.model().calls(AzureEmulator.OP_OPERATIONS)).isNotEmpty();
  }

  // ---- strict rules (testkit/README.md, "Azure rules") -------------------------------------------

  private static final String SCOPE = "/subscriptions/sub/resourceGroups/" + RG;
  private static final String IDENTITY = "/subscriptions/sub/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vm-id";

  private static Map<String, String> tags(int n) {
    Map<String, String> t = new java.util.LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      t.put("t" + i, "v");
    }
    return t;
  }

  /** The Tags API through the real resources SDK client, as {@code token}'s identity (null: the host). */
  private static com.azure.resourcemanager.resources.fluent.TagOperationsClient tagsAs(String token) {
    HttpPipeline p = token == null
        ? emulator.pipeline()
        : emulator.pipeline(new com.azure.core.http.policy.AddHeadersPolicy(
            new com.azure.core.http.HttpHeaders().set(HttpHeaderName.AUTHORIZATION, "Bearer " + token)));
    return com.azure.resourcemanager.resources.ResourceManager.authenticate(p, emulator.profile("sub"))
        .withSubscription("sub").serviceClient().getTagOperations();
  }

  private static com.azure.resourcemanager.resources.models.TagsPatchResource merge(Map<String, String> t) {
    return new com.azure.resourcemanager.resources.models.TagsPatchResource()
        .withOperation(com.azure.resourcemanager.resources.models.TagsPatchOperation.MERGE)
        .withProperties(new com.azure.resourcemanager.resources.models.Tags().withTags(t));
  }

  @Test
  void put_fiftyOneTags_is400InvalidTagCount() {
    VirtualMachineInner vm = vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n").withTags(tags(51));
    assertThatThrownBy(() -> put("vm-tags51", vm, "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(400);
          assertThat(e.getValue().getCode()).isEqualTo("InvalidTagCount");
        });
    assertThat(emulator.model().find("vm-tags51")).isEmpty();
  }

  @Test
  void patchTags_mergeMakingA51stTag_is400AndNothingChanges() {
    put("vm-tags50", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n").withTags(tags(50)), "*");
    String scope = SCOPE + "/providers/Microsoft.Compute/virtualMachines/vm-tags50";
    assertThatThrownBy(() -> tagsAs(null).updateAtScope(scope, merge(Map.of("one-more", "x"))))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(400);
          assertThat(e.getValue().getCode()).isEqualTo("InvalidTagCount");
        });
    assertThat(emulator.tags("vm-tags50").orElseThrow()).hasSize(50).doesNotContainKey("one-more");
    // replacing an existing tag keeps 50: allowed
    assertThat(tagsAs(null).updateAtScope(scope, merge(Map.of("t0", "w"))).properties().tags()).hasSize(50).containsEntry("t0", "w");
  }

  @Test
  void patchTags_identityWithoutARole_is403AuthorizationFailed_withTagContributorSucceeds() {
    put("vm-rbac", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*");
    String scope = SCOPE + "/providers/Microsoft.Compute/virtualMachines/vm-rbac";
    String token = emulator.accessToken(IDENTITY);
    assertThatThrownBy(() -> tagsAs(token).updateAtScope(scope, merge(Map.of("exit", "0"))))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(403);
          assertThat(e.getValue().getCode()).isEqualTo("AuthorizationFailed");
          assertThat(e.getValue().getMessage()).contains("Microsoft.Resources/tags/write").contains(scope);
        });
    // a role on another resource group does not reach this VM
    emulator.grantRole(IDENTITY, AzureEmulator.ROLE_TAG_CONTRIBUTOR, "/subscriptions/sub/resourceGroups/rg-other");
    assertThatThrownBy(() -> tagsAs(token).updateAtScope(scope, merge(Map.of("exit", "0")))).isInstanceOf(ManagementException.class);
    emulator.grantRole(IDENTITY, AzureEmulator.ROLE_TAG_CONTRIBUTOR, SCOPE);
    assertThat(tagsAs(token).updateAtScope(scope, merge(Map.of("exit", "0"))).properties().tags()).containsEntry("exit", "0");
  }

  @Test
  void workload_systemAssignedIdentityWithoutRole_tagWriteRefused_andTheGuestPowerOffShowsStopped() {
    String script = "#!/bin/sh\n"
        + "t=$(curl -sf -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x'"
        + " | sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p')\n"
        + "id=$(curl -sf -H Metadata:true 'http://169.254.169.254/metadata/instance/compute/resourceId?format=text')\n"
        + "curl -sf -X PATCH -H \"Authorization: Bearer $t\" --data '{\"operation\":\"Merge\",\"properties\":{\"tags\":{\"rc\":\"0\"}}}'"
        + " \"https://management.azure.com${id}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01\" || shutdown -h now\n";
    VirtualMachineInner vm = vm("Standard_NC4as_T4_v3", false, script)
        .withIdentity(new com.azure.resourcemanager.compute.models.VirtualMachineIdentity()
            .withType(com.azure.resourcemanager.compute.models.ResourceIdentityType.SYSTEM_ASSIGNED));
    emulator.model().planWorkload("vm-off", Duration.ofMillis(100), 0);
    put("vm-off", vm, "*");
    Await.until("workload ran", Duration.ofSeconds(10), Duration.ofMillis(50),
        () -> emulator.observedWorkload("vm-off").isPresent() || power("vm-off").equals("PowerState/stopped") ? true : null);
    assertThat(power("vm-off")).isEqualTo("PowerState/stopped");
    assertThat(emulator.tags("vm-off").orElseThrow()).doesNotContainKey("rc");
    assertThat(emulator.observedWorkload("vm-off").orElseThrow().file("tags-refused.json")).contains("AuthorizationFailed");
  }

  @Test
  void put_spotBeyondLowPriorityQuota_is409LowPriorityCores_whileRegularStillFits() {
    emulator.model().setQuota("eastus", AzureEmulator.QUOTA_LOW_PRIORITY_CORES, 0);
    assertThatThrownBy(() -> put("vm-spotq", vm("Standard_NC4as_T4_v3", true, "#!/bin/sh\n"), "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> {
          assertThat(e.getResponse().getStatusCode()).isEqualTo(409);
          assertThat(e.getValue().getCode()).isEqualTo("OperationNotAllowed");
          assertThat(e.getValue().getMessage()).contains("LowPriorityCores quota");
        });
    assertThat(put("vm-regq", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*").getStatusCode()).isEqualTo(201);
  }

  @Test
  void put_familyQuotaExhausted_regularRefusedButSpotStillFits() {
    emulator.model().setQuota("eastus", "standardNCASv3_T4Family", 0);
    assertThatThrownBy(() -> put("vm-famq", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), "*"))
        .isInstanceOfSatisfying(ManagementException.class, e -> assertThat(e.getValue().getMessage()).contains("Standard NCASv3_T4 Family Cores quota"));
    assertThat(put("vm-famq-spot", vm("Standard_NC4as_T4_v3", true, "#!/bin/sh\n"), "*").getStatusCode()).isEqualTo(201);
  }

  @Test
  void delete_takesModelTime_vmReadsDeletingThen404_andItsOperationIsNotDoneOnFirstPoll() {
    dev.acceldispatch.testkit.ManualClock clock = new dev.acceldispatch.testkit.ManualClock();
    try (AzureEmulator manual = AzureEmulator.create(CloudModel.create(clock, 1)).armThrottling(false)
        .deleteTime(Duration.ofSeconds(30)).start()) {
      VirtualMachinesClient c = manual.computeManager("sub").serviceClient().getVirtualMachines();
      c.createOrUpdateWithResponseAsync(RG, "vm-del", vm("Standard_NC4as_T4_v3", false, "#!/bin/sh\n"), null, "*")
          .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).thenReturn(r)).block();
      assertThat(c.getByResourceGroup(RG, "vm-del").provisioningState()).as("model time has not moved").isEqualTo("Creating");
      clock.advance(Duration.ofSeconds(1));
      Response<?> del = c.deleteWithResponseAsync(RG, "vm-del", null)
          .flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).thenReturn(r)).block();
      assertThat(del.getStatusCode()).isEqualTo(202);
      String async = del.getHeaders().getValue(HttpHeaderName.fromString("Azure-AsyncOperation"));
      assertThat(c.getByResourceGroup(RG, "vm-del").provisioningState()).isEqualTo("Deleting");
      assertThat(operationStatus(async)).contains("InProgress");
      assertThat(operationStatus(async)).as("still deleting").contains("InProgress");
      assertThat(manual.model().find("vm-del")).as("capacity held while deleting").isPresent();
      clock.advance(Duration.ofSeconds(30));
      assertThat(operationStatus(async)).contains("Succeeded");
      assertThatThrownBy(() -> c.getByResourceGroup(RG, "vm-del"))
          .isInstanceOfSatisfying(ManagementException.class, e -> assertThat(e.getResponse().getStatusCode()).isEqualTo(404));
      assertThat(manual.model().find("vm-del")).isEmpty();
      assertThat(manual.helperResources()).as("an OS disk without deleteOption Delete is left behind, as ARM does")
          .hasSize(1).containsValue("disk");
    }
  }
}
