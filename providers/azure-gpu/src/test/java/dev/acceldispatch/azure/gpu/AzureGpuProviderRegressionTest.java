package dev.acceldispatch.azure.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
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
import org.junit.jupiter.api.Test;

/**
 * Issue 14, items 8 to 12: what the real Azure API refuses or produces and the provider got wrong,
 * each through the real ComputeManager against the strict emulator.
 */
class AzureGpuProviderRegressionTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static AzureTestWiring wiring;
  private static AzureGpuProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeAll
  static void start() {
    wiring = AzureTestWiring.start(CloudModel.create().setDefaultWorkload(Duration.ofMillis(300), 0));
    provider = wiring.providerBuilder().build();
  }

  @AfterAll
  static void stop() {
    wiring.close();
    AzureTestWiring.assertNoThreadsLeft();
  }

  @AfterEach
  void cleanUp() {
    wiring.emulator.model().clearFaults();
    wiring.emulator.clearRoles().grantRole(AzureTestWiring.IDENTITY, AzureEmulator.ROLE_TAG_CONTRIBUTOR, AzureTestWiring.RESOURCE_GROUP_ID);
    for (ProvisionedResource r : created) {
      provider.release(r);
    }
    created.clear();
  }

  private static ProvisionRequest request(String size, Map<String, String> labels) {
    Offer offer = provider.offers().stream()
        .filter(o -> o.machineType().equals(size) && o.region().equals("eastus")).findFirst().orElseThrow();
    String job = "r" + SEQ.incrementAndGet() + "x" + Long.toString(System.nanoTime() % 1_000_000, 36);
    return new ProvisionRequest("ad-" + job + "-a1", "fleet-reg", job, 1, offer, false,
        Workload.script("echo work").build().withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1")),
        labels, null);
  }

  private ProvisionedResource provision(AzureGpuProvider p, ProvisionRequest r) {
    ProvisionedResource res = p.provision(r);
    created.add(res);
    return res;
  }

  private static ResourceStatus awaitTerminal(AzureGpuProvider p, ProvisionedResource r) {
    return Await.until("terminal " + r.name(), Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      ResourceStatus s = p.status(r);
      return s.phase().isTerminal() ? s : null;
    });
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
    ProvisionRequest r = request("Standard_NC4as_T4_v3", Map.of());
    provision(provider, r);
    String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
    assertThat(body).contains("\"type\":\"UserAssigned\"").contains(AzureTestWiring.IDENTITY).doesNotContain("SystemAssigned");
    assertThat(wiring.emulator.customData(r.resourceName()).orElseThrow()).contains("msi_res_id=").contains("shutdown -h now");
  }

  @Test
  void status_identityWithoutTagContributor_vmPowersItselfOffAndEndsFailedInsteadOfRunningUntilTheJobTimeout() {
    wiring.emulator.clearRoles();
    ProvisionRequest r = request("Standard_NC4as_T4_v3", Map.of());
    ResourceStatus end = awaitTerminal(provider, provision(provider, r));

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
    ProvisionRequest r = request("Standard_NC4as_T4_v3", Map.of());
    ResourceStatus end = awaitTerminal(provider, provision(provider, r));
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
    ProvisionRequest r = request("Standard_NC4as_T4_v3", labels);
    ProvisionedResource res = provision(provider, r);
    Map<String, String> atCreate = wiring.emulator.tags(r.resourceName()).orElseThrow();
    assertThat(atCreate).hasSize(49)
        .containsKeys(ProvisionRequest.LABEL_FLEET, ProvisionRequest.LABEL_JOB, ProvisionRequest.LABEL_ATTEMPT);

    ResourceStatus end = awaitTerminal(provider, res);

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
  void status_429WithShortRetryAfter_isWaitedOutByTheRecommendedPipeline() {
    ProvisionedResource res = provision(provider, request("Standard_NC4as_T4_v3", Map.of()));
    wiring.emulator.model().injectFault(AzureEmulator.OP_GET, Fault.throttled(Duration.ofSeconds(1)), 1);
    assertThat(provider.status(res).phase()).isNotNull();
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
    ProvisionRequest t4 = request("Standard_NC4as_T4_v3", Map.of());
    ProvisionRequest h100 = request("Standard_ND96isr_H100_v5", Map.of());
    provision(provider, t4);
    provision(provider, h100);
    assertThat(imageOf(t4)).isEqualTo("microsoft-dsvm:ubuntu-hpc:2204:22.04.2024091701");
    assertThat(imageOf(h100)).isEqualTo("microsoft-dsvm:ubuntu-hpc:2204:latest");

    AzureGpuProvider custom = wiring.providerBuilder().image("Standard_NC4as_T4_v3", "Canonical:ubuntu-24_04-lts:server:latest").build();
    ProvisionRequest overridden = request("Standard_NC4as_T4_v3", Map.of());
    provision(custom, overridden);
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
    ProvisionRequest r = request("Standard_NC4as_T4_v3", Map.of());
    provision(p, r);
    String body = wiring.emulator.createBody(r.resourceName()).orElseThrow().replace(" ", "");
    assertThat(body).contains("\"publicIPAddressConfiguration\":{\"name\":\"" + r.resourceName() + "-ip\"")
        .contains("\"deleteOption\":\"Delete\"");
    ProvisionRequest none = request("Standard_NC4as_T4_v3", Map.of());
    provision(provider, none);
    assertThat(wiring.emulator.createBody(none.resourceName()).orElseThrow()).doesNotContain("publicIPAddressConfiguration");
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
