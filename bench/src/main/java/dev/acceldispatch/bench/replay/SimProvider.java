package dev.acceldispatch.bench.replay;

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
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * One simulated cloud for the replay: a {@link Provider} on the testkit's {@link CloudModel}
 * (capacity per zone and type, stockout windows, spot preemptions, provisioning time), plus what
 * the model lacks: random transient API errors at a rate per operation, and a bill (what the
 * cloud charges: from running until the workload stopped, the machine was preempted, or it was
 * deleted, whichever came first).
 *
 * <p>Why not the testkit's {@code FakeProvider}: it records every call in the model's
 * {@code CopyOnWriteArrayList}, which copies the whole list on each call; a 129-day trace makes
 * millions of calls, which turns that into hours. This class uses the same model without the
 * call log. Not thread-safe: the replay runs the engine inline on one thread.
 */
final class SimProvider implements Provider {
  /** Environment variables the replay puts in each job: reference run time and its TFLOPS. */
  static final String ENV_REF_MILLIS = "BENCH_REF_MILLIS";
  static final String ENV_REF_TFLOPS = "BENCH_REF_TFLOPS";

  private record Live(Offer offer, boolean spot) {}

  private final String id;
  private final CloudModel cloud;
  private final List<Offer> offers;
  private final double provisionErrors;
  private final double statusErrors;
  private final double releaseErrors;
  private final Random random;
  private final Map<String, Live> live = new LinkedHashMap<>();
  private long calls;
  private long creates;
  private long gets;
  private long deletes;
  private long preemptions;
  private double billed;
  private double preemptedDeviceHours;

  SimProvider(String id, CloudModel cloud, List<Offer> offers, double provisionErrors, double statusErrors,
      double releaseErrors, long seed) {
    this.id = id;
    this.cloud = cloud;
    this.offers = List.copyOf(offers);
    this.provisionErrors = provisionErrors;
    this.statusErrors = statusErrors;
    this.releaseErrors = releaseErrors;
    this.random = new Random(seed);
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
    // The replay measures placement, not client-side rate limiting.
    return ProviderLimits.IN_PROCESS;
  }

  CloudModel cloud() {
    return cloud;
  }

  long calls() {
    return calls;
  }

  /** Calls by operation, for the log: create / get / delete / list. */
  String callsByOperation() {
    return creates + " create, " + gets + " get, " + deletes + " delete, " + (calls - creates - gets - deletes) + " list";
  }

  long preemptions() {
    return preemptions;
  }

  double preemptedDeviceHours() {
    return preemptedDeviceHours;
  }

  int liveResources() {
    return live.size();
  }

  /** What the cloud has charged so far, including what live resources have run up to now. */
  double costSoFar() {
    double live = 0;
    for (Map.Entry<String, Live> e : this.live.entrySet()) {
      Optional<SimulatedResource> r = cloud.find(e.getKey());
      if (r.isPresent()) {
        live += charge(r.get(), e.getValue());
      }
    }
    return billed + live;
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest r) {
    calls++;
    creates++;
    String zone = r.offer().zone();
    if (random.nextDouble() < provisionErrors) {
      throw new ProviderException.Transient(id, zone, "UNAVAILABLE", "simulated 503 on create", null);
    }
    String refMillis = r.workload().env().get(ENV_REF_MILLIS);
    String refTflops = r.workload().env().get(ENV_REF_TFLOPS);
    if (refMillis != null && refTflops != null) {
      double ms = Double.parseDouble(refMillis) * Double.parseDouble(refTflops) / r.offer().shape().totalTflops();
      cloud.planWorkload(r.resourceName(), Duration.ofMillis(Math.max(1, Math.round(ms))), 0);
    }
    String pool = r.offer().shape().type().id();
    Map<String, String> labels = new HashMap<>(r.ownershipLabels());
    try {
      cloud.allocate(
          new AllocationRequest(r.resourceName(), r.offer().region(), zone, pool, r.offer().shape().count(), r.spot(), List.of()),
          labels);
    } catch (AllocationDenied d) {
      throw new ProviderException.CapacityUnavailable(id, zone, "STOCKOUT", d.getMessage(), null);
    }
    live.put(r.resourceName(), new Live(r.offer(), r.spot()));
    return new ProvisionedResource(id, r.resourceName(), zone, Map.of("region", r.offer().region()));
  }

  @Override
  public ResourceStatus status(ProvisionedResource res) {
    calls++;
    gets++;
    if (random.nextDouble() < statusErrors) {
      throw new ProviderException.Transient(id, res.zone(), "UNAVAILABLE", "simulated 503 on get", null);
    }
    return cloud.find(res.name()).map(SimulatedResource::toStatus).orElseGet(() -> ResourceStatus.gone("not found"));
  }

  @Override
  public void release(ProvisionedResource res) {
    calls++;
    deletes++;
    if (random.nextDouble() < releaseErrors) {
      throw new ProviderException.Transient(id, res.zone(), "UNAVAILABLE", "simulated 503 on delete", null);
    }
    Live l = live.remove(res.name());
    Optional<SimulatedResource> found = cloud.find(res.name());
    if (found.isPresent() && l != null) {
      SimulatedResource s = found.get();
      billed += charge(s, l);
      if (s.phase() == SimulatedResource.Phase.PREEMPTED) {
        preemptions++;
        preemptedDeviceHours += hoursRun(s) * s.request().units();
      }
    }
    cloud.delete(res.name());
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    calls++;
    List<ProvisionedResource> out = new ArrayList<>();
    for (Map.Entry<String, Live> e : live.entrySet()) {
      out.add(new ProvisionedResource(id, e.getKey(), e.getValue().offer().zone(), Map.of("region", e.getValue().offer().region())));
    }
    return out;
  }

  private double charge(SimulatedResource s, Live l) {
    Money hourly = l.offer().hourly(l.spot());
    return hoursRun(s) * hourly.toDouble();
  }

  /** Hours billed: from running until it stopped (exit or preemption) or now. */
  private double hoursRun(SimulatedResource s) {
    Instant now = cloud.clock().instant();
    Instant end = switch (s.phase()) {
      case PROVISIONING -> s.runningAt();
      case RUNNING -> now;
      case EXITED, PREEMPTED -> s.endsAt();
    };
    long ms = Duration.between(s.runningAt(), end).toMillis();
    return Math.max(0, ms) / 3_600_000.0;
  }
}
