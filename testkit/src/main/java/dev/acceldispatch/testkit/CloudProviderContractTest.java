package dev.acceldispatch.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.ScriptSandbox;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The provider contract plus what every cloud must get right: stockouts, quotas, preemption,
 * transient faults, lost responses, labels, and hostile workload strings, all driven through the
 * emulator's {@link CloudModel} while the real SDK client talks to the emulator.
 */
public abstract class CloudProviderContractTest extends ProviderContractTest {

  /** The model behind the emulator the provider talks to. */
  protected abstract CloudModel cloud();

  /** The emulator's operation name for the create call (for fault injection), e.g. {@code tpu.create}. */
  protected abstract String createOperation();

  /** What the emulator's sandboxed run of the startup script showed, once the workload ended. */
  protected abstract Optional<ScriptSandbox.Result> observedWorkload(String resourceName);

  /** The offer used for spot tests: by default the cheapest with a spot tier. */
  protected Offer spotOffer() {
    return provider().offers().stream()
        .filter(o -> o.spotHourly() != null)
        .min((a, b) -> a.spotHourly().compareTo(b.spotHourly()))
        .orElseThrow(() -> new AssertionError("no spot offer"));
  }

  /** Runs {@code provisioning}; returns the failure seen by provision or by a later status. */
  protected ProviderException awaitProvisionFailure(ProvisionRequest r) {
    try {
      ProvisionedResource res = provisionTracked(r);
      return Await.until(
          "a provisioning failure of " + r.resourceName(), patience(), pollEvery(),
          () -> {
            try {
              ResourceStatus s = provider().status(res);
              assertThat(s.phase()).as("status while failing").isIn(ResourceStatus.Phase.PENDING, ResourceStatus.Phase.GONE);
              return null;
            } catch (ProviderException e) {
              return e;
            }
          });
    } catch (ProviderException e) {
      return e;
    }
  }

  @Test
  void stockout_isReportedAsCapacityUnavailable() {
    cloud().stockout(CloudModel.ANY, CloudModel.ANY, Duration.ofHours(1));
    try {
      ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
      ProviderException e = awaitProvisionFailure(r);
      assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
      assertThat(e.providerId()).isEqualTo(provider().id());
      assertThat(e.cloudCode()).isNotBlank();
    } finally {
      cloud().clearStockouts();
    }
  }

  @Test
  void quotaOfZero_isReportedAsQuotaExceeded() {
    cloud().setQuota(CloudModel.GLOBAL, CloudModel.ANY, 0);
    try {
      ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
      ProviderException e = awaitProvisionFailure(r);
      assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
      assertThat(e.cloudMessage()).isNotBlank();
    } finally {
      cloud().clearQuotas();
    }
  }

  @Test
  void spotPreemption_isReportedAsPreemptedOrGone() {
    ProvisionRequest r = request(fleetId(), spotOffer(), true, Workload.script("exit 0").build());
    cloud().planWorkload(r.resourceName(), Duration.ofMinutes(10), 0);
    ProvisionedResource res = provisionTracked(r);
    awaitPhase(res, ResourceStatus.Phase.RUNNING);
    assertThat(cloud().preempt(r.resourceName())).isTrue();
    ResourceStatus s = awaitPhase(res, ResourceStatus.Phase.PREEMPTED, ResourceStatus.Phase.GONE);
    assertThat(s.exitCode()).isNull();
  }

  @Test
  void persistentUnavailable_isReportedAsTransient() {
    cloud().injectFault(CloudModel.ANY, Fault.of(Fault.Kind.UNAVAILABLE), 1000);
    try {
      ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
      ProviderException e = expectFailure(() -> provisionTracked(r));
      assertThat(e).isInstanceOf(ProviderException.Transient.class);
    } finally {
      cloud().clearFaults();
    }
  }

  @Test
  void lostCreateResponse_thenRetry_createsExactlyOneResource() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
    cloud().planWorkload(r.resourceName(), Duration.ofMinutes(5), 0);
    long before = cloud().allocations();
    cloud().injectFault(createOperation(), Fault.of(Fault.Kind.LOSE_RESPONSE), 1);
    try {
      provisionTracked(r);
    } catch (ProviderException e) {
      assertThat(e).isInstanceOf(ProviderException.Transient.class);
    }
    ProvisionedResource res = provisionTracked(r);
    assertThat(res.name()).isEqualTo(r.resourceName());
    assertThat(cloud().allocations() - before).as("allocations").isEqualTo(1);
    assertThat(cloud().resources().stream().filter(x -> x.name().equals(r.resourceName()))).hasSize(1);
  }

  @Test
  void resourceLabels_nameFleetJobAndAttempt() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
    provisionTracked(r);
    var labels = cloud().find(r.resourceName()).orElseThrow().labels();
    assertThat(labels.values()).contains(fleetId(), r.jobId(), "1");
  }

  @Test
  void hostileWorkloadStrings_reachTheContainerByteForByte_andRunNothingElse() {
    List<String> hostile =
        List.of(
            "it's \"quoted\"", "$(touch pwned-subst)", "`touch pwned-tick`", "line one\nline two",
            "ünïcødé ✓ 日本", "; touch pwned-semi #", "$HOME ${PATH}", "back\\slash", "", "-e", "'");
    Workload w =
        Workload.container("registry.example/train:1", hostile.toArray(String[]::new))
            .env("HOSTILE", "$(touch pwned-env)'\"`\n✓")
            .build();
    ProvisionRequest r = request(fleetId(), testOffer(), false, w);
    cloud().planWorkload(r.resourceName(), Duration.ofMillis(500), 0);
    ResourceStatus end = awaitTerminal(provisionTracked(r));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    ScriptSandbox.Result run =
        observedWorkload(r.resourceName()).orElseThrow(() -> new AssertionError("the emulator did not run the workload"));
    assertThat(run.dockerRan()).isTrue();
    List<String> argv = run.dockerArgv();
    int image = argv.indexOf("registry.example/train:1");
    assertThat(image).as("image in docker argv %s", argv).isPositive();
    assertThat(argv.subList(image + 1, argv.size())).containsExactlyElementsOf(hostile);
    assertThat(run.dockerEnv()).containsEntry("HOSTILE", "$(touch pwned-env)'\"`\n✓");
    assertThat(run.dockerEnv()).containsEntry("ACCEL_DISPATCH_JOB_ID", r.jobId());
    assertThat(run.files().keySet()).noneMatch(n -> n.startsWith("pwned"));
  }

  private static ProviderException expectFailure(Supplier<?> call) {
    try {
      call.get();
    } catch (ProviderException e) {
      return e;
    }
    throw new AssertionError("expected a ProviderException");
  }
}
