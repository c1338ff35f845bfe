package dev.acceldispatch.testkit;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.cloud.AllocationDenied;
import dev.acceldispatch.testkit.cloud.AllocationRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.Fault;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A deterministic in-process {@link Provider} on a {@link CloudModel}: no network, no SDK, time
 * from the model's clock (a {@link ManualClock} for virtual time). Script it through {@link
 * #cloud()}: capacity, stockouts, quotas, preemptions, faults on operations {@code
 * <id>.provision}, {@code <id>.status}, {@code <id>.release}, {@code <id>.list}. Workloads run for
 * the model's plan, or for what their environment asks: {@code FAKE_RUN_SECONDS} and {@code
 * FAKE_EXIT_CODE}.
 *
 * <p>It counts what exists, so tests assert that nothing leaked: {@link #liveResources()}.
 * Thread-safe.
 */
public final class FakeProvider implements Provider {
  private final String id;
  private final CloudModel cloud;
  private final List<Offer> offers;
  private final ProviderLimits limits;
  private final Map<String, String> regionOfZone = new HashMap<>();
  private final AtomicLong provisionCalls = new AtomicLong();
  private final List<ProvisionRequest> requests = new java.util.concurrent.CopyOnWriteArrayList<>();

  private FakeProvider(Builder b) {
    this.id = b.id;
    this.cloud = b.cloud;
    this.offers = List.copyOf(b.offers);
    this.limits = b.limits;
    for (Offer o : offers) {
      regionOfZone.put(o.zone(), o.region());
    }
  }

  /** A fake called {@code id} on {@code cloud}. */
  public static Builder builder(String id, CloudModel cloud) {
    return new Builder(id, cloud);
  }

  /** The model behind it, to script. */
  public CloudModel cloud() {
    return cloud;
  }

  /** How many resources of this provider exist in the model right now. */
  public int liveResources() {
    return (int) cloud.resources().stream().filter(r -> r.labels().getOrDefault("provider", "").equals(id)).count();
  }

  /** Every provision request received, in order (retries included). */
  public List<ProvisionRequest> requests() {
    return java.util.Collections.unmodifiableList(requests);
  }

  /** How many times provision was called. */
  public long provisionCalls() {
    return provisionCalls.get();
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

  @Override
  public ProvisionedResource provision(ProvisionRequest r) {
    provisionCalls.incrementAndGet();
    requests.add(r);
    String zone = r.offer().zone();
    Optional<Fault> fault = cloud.onCall(id, id + ".provision", r.resourceName(), Map.of("zone", zone, "spot", Boolean.toString(r.spot())));
    boolean loseResponse = fault.isPresent() && fault.get().kind() == Fault.Kind.LOSE_RESPONSE;
    if (fault.isPresent() && !loseResponse) {
      throw toException(fault.get(), zone);
    }
    String run = r.workload().env().get("FAKE_RUN_SECONDS");
    String exit = r.workload().env().get("FAKE_EXIT_CODE");
    if (run != null || exit != null) {
      CloudModel.WorkloadPlan def = cloud.workloadPlan(r.resourceName());
      cloud.planWorkload(
          r.resourceName(),
          run == null ? def.runTime() : Duration.ofMillis(Math.round(Double.parseDouble(run) * 1000)),
          exit == null ? def.exitCode() : Integer.parseInt(exit));
    }
    AcceleratorShape shape = r.offer().shape();
    Map<String, String> labels = new HashMap<>(r.labels());
    labels.putAll(r.ownershipLabels());
    labels.put("provider", id);
    try {
      cloud.allocate(
          new AllocationRequest(
              r.resourceName(), r.offer().region(), zone, shape.type().id(), shape.count(), r.spot(),
              List.of(shape.type().id() + (r.spot() ? "-spot" : ""))),
          labels);
    } catch (AllocationDenied d) {
      if (d.reason() == AllocationDenied.Reason.CAPACITY) {
        throw new ProviderException.CapacityUnavailable(id, zone, "STOCKOUT", d.getMessage(), null);
      }
      ProviderException.QuotaExceeded.Scope scope =
          d.scope().equals(CloudModel.GLOBAL)
              ? ProviderException.QuotaExceeded.Scope.PROVIDER
              : d.scope().equals(zone) ? ProviderException.QuotaExceeded.Scope.ZONE : ProviderException.QuotaExceeded.Scope.REGION;
      throw new ProviderException.QuotaExceeded(id, zone, scope, "QUOTA_EXCEEDED", d.getMessage(), null);
    }
    if (loseResponse) {
      throw new ProviderException.Transient(id, zone, "UNAVAILABLE", "response lost after the create took effect", null);
    }
    return new ProvisionedResource(id, r.resourceName(), zone, Map.of("region", r.offer().region()));
  }

  @Override
  public ResourceStatus status(ProvisionedResource res) {
    cloud.onCall(id, id + ".status", res.name(), Map.of()).ifPresent(f -> {
      throw toException(f, res.zone());
    });
    return cloud.find(res.name()).map(SimulatedResource::toStatus).orElseGet(() -> ResourceStatus.gone("not found"));
  }

  @Override
  public void release(ProvisionedResource res) {
    cloud.onCall(id, id + ".release", res.name(), Map.of()).ifPresent(f -> {
      if (f.kind() == Fault.Kind.LOSE_RESPONSE) {
        cloud.delete(res.name());
      }
      throw toException(f, res.zone());
    });
    cloud.delete(res.name());
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    cloud.onCall(id, id + ".list", fleetId, Map.of()).ifPresent(f -> {
      throw toException(f, null);
    });
    List<ProvisionedResource> out = new ArrayList<>();
    for (SimulatedResource s : cloud.resources()) {
      if (id.equals(s.labels().get("provider")) && fleetId.equals(s.labels().get(ProvisionRequest.LABEL_FLEET))) {
        out.add(new ProvisionedResource(id, s.name(), s.request().zone(), Map.of("region", s.request().region())));
      }
    }
    return out;
  }

  private ProviderException toException(Fault f, String zone) {
    return switch (f.kind()) {
      case THROTTLED -> new ProviderException.Throttled(id, zone, f.retryAfter(), "RATE_LIMITED", "slow down", null);
      case PERMISSION_DENIED -> new ProviderException.PermissionDenied(id, zone, false, "PERMISSION_DENIED", "denied", null);
      default -> new ProviderException.Transient(id, zone, f.kind().name(), "injected " + f.kind(), null);
    };
  }

  /** Builds a {@link FakeProvider}. */
  public static final class Builder {
    private final String id;
    private final CloudModel cloud;
    private final List<Offer> offers = new ArrayList<>();
    private ProviderLimits limits = ProviderLimits.IN_PROCESS;

    private Builder(String id, CloudModel cloud) {
      this.id = Objects.requireNonNull(id, "id");
      this.cloud = Objects.requireNonNull(cloud, "cloud");
    }

    /** Adds an offer of unlimited capacity (the model's capacity decides). */
    public Builder offer(String region, String zone, AcceleratorShape shape, String machineType, double onDemand, Double spot) {
      offers.add(Offer.of(id, region, zone, shape, machineType, Money.usd(onDemand), spot == null ? null : Money.usd(spot)));
      return this;
    }

    /** Adds an offer. */
    public Builder offer(Offer offer) {
      offers.add(offer);
      return this;
    }

    /** The limits it advertises; default {@link ProviderLimits#IN_PROCESS} (no rate limit). */
    public Builder limits(ProviderLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** Builds it. */
    public FakeProvider build() {
      if (offers.isEmpty()) {
        throw new IllegalStateException("offer: a fake provider needs at least one offer");
      }
      return new FakeProvider(this);
    }
  }
}
