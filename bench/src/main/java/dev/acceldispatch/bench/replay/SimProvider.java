package dev.acceldispatch.bench.replay;

import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.TaskScheduler;
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
import java.util.function.Consumer;

/**
 * One simulated cloud for the replay: a {@link Provider} on the testkit's {@link CloudModel}
 * (capacity per zone and type, stockout windows, provisioning time), plus what the model lacks and
 * a cloud does:
 *
 * <ul>
 *   <li>a create the zone cannot fill is accepted, and refused later, after the cloud's refusal
 *       latency ({@code refusal.<cloud>}), through {@link #status}; or, for a queued resource,
 *       waits until the zone has room (filled then) or the engine deletes it;
 *   <li>spot machines are taken back after a life drawn, when the machine is created, from one
 *       random stream per zone, so that an oracle can read the next draw ({@link #nextSpotLife});
 *   <li>the bill: from the moment the cloud holds a machine until it is deleted (boot and idle
 *       included) or taken back, with the cloud's minimum charge;
 *   <li>random transient API errors at a rate per operation.
 * </ul>
 *
 * <p>Why not the testkit's {@code FakeProvider}: it records every call in the model's
 * {@code CopyOnWriteArrayList}, which copies the whole list on each call; a 129-day trace makes
 * millions of calls, which turns that into hours. Not thread-safe: the replay runs the engine
 * inline on one thread.
 */
final class SimProvider implements Provider {
  /** Environment variables the replay puts in each job: reference run time and its TFLOPS. */
  static final String ENV_REF_MILLIS = "BENCH_REF_MILLIS";
  static final String ENV_REF_TFLOPS = "BENCH_REF_TFLOPS";

  /** How a cloud answers a create it cannot fill. */
  record Refusal(Duration latency, boolean waits) {
    static Refusal parse(String v) {
      return v.trim().equals("wait") ? new Refusal(Duration.ZERO, true)
          : new Refusal(Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000)), false);
    }
  }

  /** The simulated cloud's rules, from the model file. */
  record Rules(Refusal refusal, Duration minimumCharge, double preemptionPerHour, double provisionErrors,
      double statusErrors, double releaseErrors) {}

  /**
   * What one machine did, known to the simulation only.
   *
   * @param startedAt when the machine started running its workload; null if it never did
   * @param workloadEndedAt when its workload ended; null if it never ended on this machine
   */
  record Outcome(Instant startedAt, Instant workloadEndedAt) {}

  private static final class Live {
    final ProvisionRequest request;
    final Instant createdAt;
    Instant allocatedAt;
    Instant refusedAt;
    Instant preemptAt;
    boolean preempted;

    Live(ProvisionRequest request, Instant createdAt) {
      this.request = request;
      this.createdAt = createdAt;
    }

    Offer offer() {
      return request.offer();
    }
  }

  private final String id;
  private final CloudModel cloud;
  private final TaskScheduler scheduler;
  private final List<Offer> offers;
  private final Rules rules;
  private final Random random;
  private final long seed;
  private final Map<String, Integer> capacity = new HashMap<>();
  private final Map<String, Integer> used = new HashMap<>();
  private final Map<String, List<Instant[]>> stockouts = new HashMap<>();
  private final Map<String, Random> spotStreams = new HashMap<>();
  private final Map<String, Double> nextSpotLife = new HashMap<>();
  private final Map<String, Live> live = new LinkedHashMap<>();
  private final Map<String, Outcome> outcomes = new HashMap<>();
  private Consumer<String> onAllocated = jobId -> { };
  private Duration provisioning = Duration.ZERO;
  private long calls;
  private long creates;
  private long gets;
  private long deletes;
  private long failedCreates;
  private long preemptions;
  private long tasks;
  private double billed;
  private double idleHours;
  private double preemptedDeviceHours;

  SimProvider(String id, CloudModel cloud, TaskScheduler scheduler, List<Offer> offers, Rules rules, long seed) {
    this.id = id;
    this.cloud = cloud;
    this.scheduler = scheduler;
    this.offers = List.copyOf(offers);
    this.rules = rules;
    this.seed = seed;
    this.random = new Random(seed);
  }

  /** Sets the capacity of a (zone, pool), in devices, in this provider's books and the model's. */
  void capacity(String zone, String pool, int units) {
    capacity.put(zone + "|" + pool, units);
    cloud.setCapacity(zone, pool, units);
  }

  /** No capacity for {@code pool} in {@code zone} between the two instants. */
  void stockout(String zone, String pool, Instant from, Instant until) {
    stockouts.computeIfAbsent(zone + "|" + pool, k -> new ArrayList<>()).add(new Instant[] {from, until});
    cloud.stockoutWindow(zone, pool, from, until);
  }

  /** Called with the engine's job id whenever the cloud allocates a machine for it. */
  void onAllocated(Consumer<String> listener) {
    this.onAllocated = listener;
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

  Rules rules() {
    return rules;
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

  /** Creates the cloud refused or never filled (a queued resource deleted while waiting). */
  long failedCreates() {
    return failedCreates;
  }

  /** Machine-hours billed while no workload ran on the machine: boot, after exit, never used. */
  double idleBilledHours() {
    return idleHours;
  }

  /** Tasks this cloud ran on the shared scheduler (preemptions), not the engine's. */
  long tasks() {
    return tasks;
  }

  int liveResources() {
    return live.size();
  }

  /** What a deleted machine did, by resource name. */
  Optional<Outcome> outcome(String resourceName) {
    return Optional.ofNullable(outcomes.get(resourceName));
  }

  /**
   * Whether a create of {@code units} of {@code pool} in {@code zone} would be filled at once at
   * {@code at} and no stockout of it begins before {@code clearUntil}: the oracle's question.
   */
  boolean wouldFill(String zone, String pool, int units, Instant at, Instant clearUntil, int reservedUnits) {
    String key = zone + "|" + pool;
    for (Instant[] w : stockouts.getOrDefault(key, List.of())) {
      if (w[0].isBefore(clearUntil) && at.isBefore(w[1])) {
        return false;
      }
    }
    Integer cap = capacity.get(key);
    return cap == null || used.getOrDefault(key, 0) + reservedUnits + units <= cap;
  }

  /** The earliest end of a stockout window after {@code at}, or null: when room may come back. */
  Instant nextStockoutEnd(Instant at) {
    Instant first = null;
    for (List<Instant[]> ws : stockouts.values()) {
      for (Instant[] w : ws) {
        if (w[1].isAfter(at) && (first == null || w[1].isBefore(first))) {
          first = w[1];
        }
      }
    }
    return first;
  }

  /** How long the next spot machine created in {@code zone} will live before it is taken back. */
  Duration nextSpotLife(String zone) {
    double hours = nextSpotLife.computeIfAbsent(zone, z -> draw(z));
    return Duration.ofMillis((long) Math.min(hours * 3_600_000, 1e15));
  }

  private double draw(String zone) {
    Random r = spotStreams.computeIfAbsent(zone, z -> new Random(seed * 7_919 + z.hashCode()));
    return rules.preemptionPerHour() <= 0 ? Double.MAX_VALUE : -Math.log(1 - r.nextDouble()) / rules.preemptionPerHour();
  }

  /** The workload's run time on an offer's shape: the reference run time scaled by peak TFLOPS. */
  static Duration runTime(ProvisionRequest r) {
    String refMillis = r.workload().env().get(ENV_REF_MILLIS);
    String refTflops = r.workload().env().get(ENV_REF_TFLOPS);
    if (refMillis == null || refTflops == null) {
      return null;
    }
    return runTime(Long.parseLong(refMillis), Double.parseDouble(refTflops), r.offer());
  }

  /** The same rule from the reference numbers. */
  static Duration runTime(long refMillis, double refTflops, Offer o) {
    double ms = refMillis * refTflops / o.shape().totalTflops();
    return Duration.ofMillis(Math.max(1, Math.round(ms)));
  }

  /** How long a machine of this cloud takes from allocation to running. */
  Duration provisioningTime() {
    return provisioning;
  }

  /** Sets the boot time, in this provider's books (the oracle reads it) and the model's. */
  void provisioningTime(Duration d) {
    this.provisioning = d;
    cloud.setProvisioningTime(d);
  }

  /** What the cloud has charged so far, including what live machines have run up to now. */
  double costSoFar() {
    Instant now = cloud.clock().instant();
    double sum = billed;
    for (Live l : live.values()) {
      if (l.allocatedAt != null) {
        sum += charge(l, billedUntil(l, now));
      }
    }
    return sum;
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest r) {
    calls++;
    creates++;
    String zone = r.offer().zone();
    if (random.nextDouble() < rules.provisionErrors()) {
      throw new ProviderException.Transient(id, zone, "UNAVAILABLE", "simulated 503 on create", null);
    }
    ProvisionedResource res = new ProvisionedResource(id, r.resourceName(), zone, Map.of("region", r.offer().region()));
    if (live.containsKey(r.resourceName())) {
      return res; // adopted: the create was accepted before
    }
    Duration run = runTime(r);
    if (run != null) {
      cloud.planWorkload(r.resourceName(), run, 0);
    }
    Instant now = cloud.clock().instant();
    Live l = new Live(r, now);
    live.put(r.resourceName(), l);
    if (!tryAllocate(l, now) && !rules.refusal().waits()) {
      l.refusedAt = now.plus(rules.refusal().latency());
    }
    return res;
  }

  private boolean tryAllocate(Live l, Instant now) {
    ProvisionRequest r = l.request;
    String pool = r.offer().shape().type().id();
    try {
      cloud.allocate(new AllocationRequest(r.resourceName(), r.offer().region(), r.offer().zone(), pool,
          r.offer().shape().count(), r.spot(), List.of()), new HashMap<>(r.ownershipLabels()));
    } catch (AllocationDenied d) {
      return false;
    }
    l.allocatedAt = now;
    used.merge(r.offer().zone() + "|" + pool, r.offer().shape().count(), Integer::sum);
    if (r.spot()) {
      Duration life = nextSpotLife(r.offer().zone());
      nextSpotLife.remove(r.offer().zone());
      SimulatedResource s = cloud.find(r.resourceName()).orElseThrow();
      Instant at = now.plus(life);
      if (at.isBefore(s.endsAt())) {
        l.preemptAt = at;
        scheduler.schedule(() -> preempt(r.resourceName(), l), life);
      }
    }
    onAllocated.accept(r.jobId());
    return true;
  }

  private void preempt(String name, Live l) {
    tasks++;
    if (live.get(name) != l || !cloud.preempt(name)) {
      return;
    }
    l.preempted = true;
    used.merge(l.offer().zone() + "|" + l.offer().shape().type().id(), -l.offer().shape().count(), Integer::sum);
  }

  @Override
  public ResourceStatus status(ProvisionedResource res) {
    calls++;
    gets++;
    if (random.nextDouble() < rules.statusErrors()) {
      throw new ProviderException.Transient(id, res.zone(), "UNAVAILABLE", "simulated 503 on get", null);
    }
    Live l = live.get(res.name());
    if (l == null) {
      return ResourceStatus.gone("not found");
    }
    Instant now = cloud.clock().instant();
    if (l.allocatedAt == null) {
      if (l.refusedAt != null) {
        if (now.isBefore(l.refusedAt)) {
          return ResourceStatus.pending("create operation running");
        }
        throw new ProviderException.CapacityUnavailable(id, res.zone(), "STOCKOUT",
            "no capacity for " + l.offer().shape() + " in " + res.zone() + " (create refused after "
                + rules.refusal().latency().toSeconds() + " s)", null);
      }
      if (!tryAllocate(l, now)) {
        return ResourceStatus.pending("WAITING_FOR_RESOURCES");
      }
    }
    return cloud.find(res.name()).map(SimulatedResource::toStatus).orElseGet(() -> ResourceStatus.gone("not found"));
  }

  @Override
  public void release(ProvisionedResource res) {
    calls++;
    deletes++;
    if (random.nextDouble() < rules.releaseErrors()) {
      throw new ProviderException.Transient(id, res.zone(), "UNAVAILABLE", "simulated 503 on delete", null);
    }
    Live l = live.remove(res.name());
    if (l == null) {
      cloud.delete(res.name());
      return;
    }
    Instant now = cloud.clock().instant();
    if (l.allocatedAt == null) {
      failedCreates++;
      return;
    }
    SimulatedResource s = cloud.find(res.name()).orElseThrow();
    Instant until = billedUntil(l, now);
    billed += charge(l, until);
    Instant runFrom = s.runningAt();
    Instant runTo = min(until, s.endsAt());
    boolean ran = runFrom.isBefore(runTo);
    double runHours = ran ? Duration.between(runFrom, runTo).toMillis() / 3_600_000.0 : 0;
    idleHours += Math.max(0, Duration.between(l.allocatedAt, until).toMillis() / 3_600_000.0 - runHours);
    boolean finished = s.phase() == SimulatedResource.Phase.EXITED;
    if (ran) {
      outcomes.put(res.name(), new Outcome(runFrom, finished ? s.endsAt() : null));
    }
    if (l.preempted) {
      preemptions++;
      preemptedDeviceHours += runHours * s.request().units();
    } else {
      used.merge(l.offer().zone() + "|" + l.offer().shape().type().id(), -l.offer().shape().count(), Integer::sum);
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

  /** A machine bills until it is deleted, or until the cloud took it back. */
  private static Instant billedUntil(Live l, Instant now) {
    return l.preempted && l.preemptAt.isBefore(now) ? l.preemptAt : now;
  }

  private double charge(Live l, Instant until) {
    long ms = Math.max(rules.minimumCharge().toMillis(), Duration.between(l.allocatedAt, until).toMillis());
    return ms / 3_600_000.0 * l.offer().hourly(l.request.spot()).toDouble();
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
