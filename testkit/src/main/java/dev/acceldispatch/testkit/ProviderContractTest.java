package dev.acceldispatch.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Provider} passes, whatever it talks to. A provider module's test
 * extends this (cloud providers extend {@link CloudProviderContractTest}, which adds the cloud
 * failure modes) and wires the provider to its emulator or fake environment.
 *
 * <p>The tests use script workloads ({@code /bin/sh -c}), whose exit code is real wherever they
 * run: in a local process, or in the emulator's sandboxed run of the provider's startup script.
 */
public abstract class ProviderContractTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private final List<ProvisionedResource> created = new ArrayList<>();

  /** The provider under test, wired to its emulator (the same instance for one test). */
  protected abstract Provider provider();

  /** How long a short workload may take to be seen ending; default 60 s. */
  protected Duration patience() {
    return Duration.ofSeconds(60);
  }

  /** How often to poll status; default 200 ms. */
  protected Duration pollEvery() {
    return Duration.ofMillis(200);
  }

  /** The offer the tests use: by default the cheapest on-demand one. */
  protected Offer testOffer() {
    return provider().offers().stream()
        .min(Comparator.comparing(Offer::onDemandHourly))
        .orElseThrow(() -> new AssertionError("provider " + provider().id() + " offers nothing"));
  }

  /** The fleet id the tests use. */
  protected String fleetId() {
    return "contract";
  }

  /** A request for a fresh, unique resource name running {@code script}. */
  protected ProvisionRequest request(String fleet, Offer offer, boolean spot, Workload workload) {
    int n = SEQ.incrementAndGet();
    String job = "ct" + Long.toString(System.nanoTime() % 1_000_000_000L, 36) + n;
    return new ProvisionRequest(
        "ad-" + job + "-a1", fleet, job, 1, offer, spot,
        workload.withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1")),
        Map.of("team", "contract"), null);
  }

  /** Provisions and remembers the resource so that it is released after the test. */
  protected ProvisionedResource provisionTracked(ProvisionRequest r) {
    ProvisionedResource res = provider().provision(r);
    created.add(res);
    return res;
  }

  /** Polls until the status is terminal. */
  protected ResourceStatus awaitTerminal(ProvisionedResource r) {
    return Await.until(
        "a terminal status of " + r.name(), patience(), pollEvery(),
        () -> {
          ResourceStatus s = provider().status(r);
          return s.phase().isTerminal() ? s : null;
        });
  }

  /** Polls until the status is one of {@code phases}. */
  protected ResourceStatus awaitPhase(ProvisionedResource r, ResourceStatus.Phase... phases) {
    List<ResourceStatus.Phase> wanted = List.of(phases);
    return Await.until(
        r.name() + " in " + wanted, patience(), pollEvery(),
        () -> {
          ResourceStatus s = provider().status(r);
          return wanted.contains(s.phase()) ? s : null;
        });
  }

  @AfterEach
  void releaseEverythingCreated() {
    for (ProvisionedResource r : created) {
      try {
        provider().release(r);
      } catch (RuntimeException e) {
        // best effort; the leak assertions of the tests themselves are what count
      }
    }
    created.clear();
  }

  @Test
  void offers_areConsistent() {
    List<Offer> offers = provider().offers();
    assertThat(offers).as("offers of %s", provider().id()).isNotEmpty();
    for (Offer o : offers) {
      assertThat(o.providerId()).isEqualTo(provider().id());
      assertThat(o.zone()).isNotBlank();
      assertThat(o.region()).isNotBlank();
      assertThat(o.machineType()).isNotBlank();
      assertThat(o.capacity()).isPositive();
    }
    assertThat(offers.stream().map(Offer::key).distinct().count()).as("offer keys unique").isEqualTo(offers.size());
  }

  @Test
  void provision_workloadExitsZero_reportsSucceeded() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 0").build());
    ProvisionedResource res = provisionTracked(r);
    assertThat(res.name()).isEqualTo(r.resourceName());
    assertThat(res.providerId()).isEqualTo(provider().id());
    ResourceStatus end = awaitTerminal(res);
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(end.exitCode()).isZero();
  }

  @Test
  void provision_workloadExitsNonZero_reportsFailedWithItsCode() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("exit 3").build());
    ResourceStatus end = awaitTerminal(provisionTracked(r));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(3);
  }

  @Test
  void provision_sameNameTwice_adoptsTheFirst() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("sleep 2").build());
    ProvisionedResource first = provisionTracked(r);
    ProvisionedResource second = provisionTracked(r);
    assertThat(second.name()).isEqualTo(first.name());
    long named = provider().listOwned(fleetId()).stream().filter(x -> x.name().equals(r.resourceName())).count();
    assertThat(named).as("resources named %s", r.resourceName()).isEqualTo(1);
  }

  @Test
  void release_twiceAndOfUnknownName_succeedsAndLeavesItGone() {
    ProvisionRequest r = request(fleetId(), testOffer(), false, Workload.script("sleep 30").build());
    ProvisionedResource res = provisionTracked(r);
    provider().release(res);
    assertThatCode(() -> provider().release(res)).doesNotThrowAnyException();
    awaitPhase(res, ResourceStatus.Phase.GONE);
    assertThat(provider().listOwned(fleetId())).noneMatch(x -> x.name().equals(res.name()));
    ProvisionedResource never = ProvisionedResource.of(provider().id(), "ad-never-created-a1", res.zone());
    assertThatCode(() -> provider().release(never)).doesNotThrowAnyException();
    assertThat(provider().status(never).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void listOwned_findsThisFleetOnly() {
    ProvisionRequest mine = request(fleetId(), testOffer(), false, Workload.script("sleep 5").build());
    ProvisionRequest theirs = request(fleetId() + "-other", testOffer(), false, Workload.script("sleep 5").build());
    provisionTracked(mine);
    provisionTracked(theirs);
    List<String> owned = provider().listOwned(fleetId()).stream().map(ProvisionedResource::name).toList();
    assertThat(owned).contains(mine.resourceName()).doesNotContain(theirs.resourceName());
  }

  @Test
  void provision_invalidWorkloadForThisProvider_neverReportsSuccessSilently() {
    // A secret with no secret store configured must be refused, before anything is created; a
    // provider that accepts secrets must deliver them (the script fails when the value is wrong).
    Workload secret =
        Workload.script("[ \"$TOKEN\" = s3cr3t ]").secretEnv("TOKEN", dev.acceldispatch.Secret.of("s3cr3t")).build();
    ProvisionRequest r = request(fleetId(), testOffer(), false, secret);
    if (acceptsSecretsByDefault()) {
      ResourceStatus end = awaitTerminal(provisionTracked(r));
      assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
      return;
    }
    try {
      provisionTracked(r);
      throw new AssertionError("a secret env value was accepted without a secret store");
    } catch (ProviderException.InvalidRequest expected) {
      assertThat(expected.getMessage()).contains("TOKEN").doesNotContain("s3cr3t");
    }
    assertThat(provider().listOwned(fleetId())).noneMatch(x -> x.name().equals(r.resourceName()));
  }

  /**
   * Whether the provider may hand secret values to the workload without a secret store (true for
   * the local provider, whose "machine" is this process's own host).
   */
  protected boolean acceptsSecretsByDefault() {
    return false;
  }
}
