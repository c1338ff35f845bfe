package dev.acceldispatch.testkit.cloud;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one model of "a cloud" behind every emulator and the bench simulator: finite capacity per
 * zone and pool over time, stockout windows, quotas, provisioning latency, simulated workloads
 * that run for a planned time and exit with a planned code, spot preemptions (scheduled or random
 * at a rate), injected API faults, and a record of every call. Emulators translate their cloud's
 * API onto it; tests script it.
 *
 * <p>Time comes from the clock it was built with: the system clock for emulators driven by real
 * SDK clients, a manual clock for virtual-time simulation. State is derived from time lazily, so
 * the model needs no thread of its own. Thread-safe. Deterministic for a seed.
 */
public final class CloudModel {
  /** Matches any pool or zone in {@link #stockout} and {@link #setCapacity}. */
  public static final String ANY = "*";
  /** The quota scope that covers every region. */
  public static final String GLOBAL = "global";

  /** One recorded API call. */
  public record Call(Instant at, String api, String operation, String target, Map<String, String> details) {}

  /** How a resource's workload behaves. */
  public record WorkloadPlan(Duration runTime, int exitCode) {}

  private record Stockout(String zone, String pool, Instant from, Instant until) {}

  private final Clock clock;
  private final Random random;
  private final Map<String, Integer> capacity = new HashMap<>();
  private final List<Stockout> stockouts = new ArrayList<>();
  private final Map<String, Double> quotas = new HashMap<>();
  private final Map<String, Double> preemptionRates = new HashMap<>();
  private final Map<String, Deque<Fault>> faults = new HashMap<>();
  private final Map<String, Duration> latencies = new HashMap<>();
  private final Map<String, WorkloadPlan> plans = new HashMap<>();
  private final Map<String, Duration> provisioningTimes = new HashMap<>();
  private final Map<String, Entry> resources = new LinkedHashMap<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private WorkloadPlan defaultPlan = new WorkloadPlan(Duration.ofSeconds(2), 0);
  private Duration defaultProvisioningTime = Duration.ofMillis(500);
  private long allocations;

  private static final class Entry {
    final AllocationRequest request;
    final Instant createdAt;
    final Instant runningAt;
    Instant endsAt;
    final int exitCode;
    Instant preemptedAt;
    final Map<String, String> labels;

    Entry(AllocationRequest r, Instant createdAt, Instant runningAt, Instant endsAt, int exitCode, Map<String, String> labels) {
      this.request = r;
      this.createdAt = createdAt;
      this.runningAt = runningAt;
      this.endsAt = endsAt;
      this.exitCode = exitCode;
      this.labels = labels;
    }
  }

  private CloudModel(Clock clock, long seed) {
    this.clock = clock;
    this.random = new Random(seed);
  }

  /** A model on the system clock with seed 1. */
  public static CloudModel create() {
    return new CloudModel(Clock.systemUTC(), 1);
  }

  /** A model on {@code clock}, deterministic for {@code seed}. */
  public static CloudModel create(Clock clock, long seed) {
    return new CloudModel(clock, seed);
  }

  /** The model's clock. */
  public Clock clock() {
    return clock;
  }

  // ---- scripting -------------------------------------------------------------------------------

  /** Sets the capacity of {@code pool} in {@code zone}, in units; unset means unlimited. */
  public synchronized CloudModel setCapacity(String zone, String pool, int units) {
    capacity.put(zone + "|" + pool, units);
    return this;
  }

  /** No capacity for {@code pool} ({@link #ANY} for all) in {@code zone} ({@link #ANY}) from now for {@code d}. */
  public synchronized CloudModel stockout(String zone, String pool, Duration d) {
    Instant now = clock.instant();
    stockouts.add(new Stockout(zone, pool, now, now.plus(d)));
    return this;
  }

  /** No capacity for {@code pool} in {@code zone} between {@code from} and {@code until}. */
  public synchronized CloudModel stockoutWindow(String zone, String pool, Instant from, Instant until) {
    stockouts.add(new Stockout(zone, pool, from, until));
    return this;
  }

  /** Ends every stockout. */
  public synchronized CloudModel clearStockouts() {
    stockouts.clear();
    return this;
  }

  /**
   * Sets quota {@code name} in {@code scope} ({@link #GLOBAL}, a region or a zone) to {@code limit}
   * units; {@link #ANY} as the name limits every quota in that scope.
   */
  public synchronized CloudModel setQuota(String scope, String name, double limit) {
    quotas.put(scope + "|" + name, limit);
    return this;
  }

  /** Removes every quota. */
  public synchronized CloudModel clearQuotas() {
    quotas.clear();
    return this;
  }

  /** Spot resources in {@code zone} ({@link #ANY} for all) are preempted at this rate per hour. */
  public synchronized CloudModel setPreemptionRate(String zone, double perHour) {
    preemptionRates.put(zone, perHour);
    return this;
  }

  /** How long new resources take to start running; default 500 ms. */
  public synchronized CloudModel setProvisioningTime(Duration d) {
    defaultProvisioningTime = d;
    return this;
  }

  /** How long new resources of {@code pool} take to start running. */
  public synchronized CloudModel setProvisioningTime(String pool, Duration d) {
    provisioningTimes.put(pool, d);
    return this;
  }

  /** The workload of every resource not planned otherwise; default 2 s then exit 0. */
  public synchronized CloudModel setDefaultWorkload(Duration runTime, int exitCode) {
    defaultPlan = new WorkloadPlan(runTime, exitCode);
    return this;
  }

  /** The workload of the resource named {@code resourceName} (set before it is created). */
  public synchronized CloudModel planWorkload(String resourceName, Duration runTime, int exitCode) {
    plans.put(resourceName, new WorkloadPlan(runTime, exitCode));
    return this;
  }

  /** The plan for a resource name. */
  public synchronized WorkloadPlan workloadPlan(String resourceName) {
    return plans.getOrDefault(resourceName, defaultPlan);
  }

  /**
   * Injects {@code fault} into the next {@code times} calls of {@code operation} (an emulator's
   * name for one API call, for example {@code tpu.create} or {@code gce.insert}; {@link #ANY} for
   * every operation).
   */
  public synchronized CloudModel injectFault(String operation, Fault fault, int times) {
    Deque<Fault> q = faults.computeIfAbsent(operation, k -> new ArrayDeque<>());
    for (int i = 0; i < times; i++) {
      q.add(fault);
    }
    return this;
  }

  /** Removes every injected fault. */
  public synchronized CloudModel clearFaults() {
    faults.clear();
    return this;
  }

  /** Every call of {@code operation} takes at least {@code d}. */
  public synchronized CloudModel setLatency(String operation, Duration d) {
    latencies.put(operation, d);
    return this;
  }

  /**
   * Takes the resource back now, as a spot preemption (or maintenance event) would, if its
   * workload has not ended. Returns false when there was nothing to preempt.
   */
  public synchronized boolean preempt(String resourceName) {
    Entry e = resources.get(resourceName);
    if (e == null) {
      return false;
    }
    Instant now = clock.instant();
    if (e.preemptedAt != null || !now.isBefore(e.endsAt)) {
      return false;
    }
    e.preemptedAt = now;
    return true;
  }

  // ---- used by emulators ------------------------------------------------------------------------

  /**
   * Records a call and returns the fault to inject into it, if any. Emulators call this first
   * thing in every handler.
   */
  public Optional<Fault> onCall(String api, String operation, String target, Map<String, String> details) {
    calls.add(new Call(clock.instant(), api, operation, target, Map.copyOf(details)));
    synchronized (this) {
      Deque<Fault> q = faults.get(operation);
      if (q == null || q.isEmpty()) {
        q = faults.get(ANY);
      }
      return q == null || q.isEmpty() ? Optional.empty() : Optional.of(q.poll());
    }
  }

  /** The latency configured for an operation, zero if none. */
  public synchronized Duration latency(String operation) {
    return latencies.getOrDefault(operation, Duration.ZERO);
  }

  /**
   * Allocates a resource, or adopts it when one of that name exists (returning the existing one).
   *
   * @throws AllocationDenied when there is no capacity or a quota would be exceeded
   */
  public synchronized SimulatedResource allocate(AllocationRequest r, Map<String, String> labels) {
    Entry existing = resources.get(r.resourceName());
    if (existing != null) {
      return view(r.resourceName(), existing);
    }
    Instant now = clock.instant();
    if (isStockedOut(r.zone(), r.pool(), now) || r.units() > freeCapacity(r.zone(), r.pool())) {
      throw new AllocationDenied(
          AllocationDenied.Reason.CAPACITY, r.pool(), r.zone(), 0,
          "no capacity for " + r.units() + " x " + r.pool() + " in " + r.zone());
    }
    for (String q : r.quotaNames()) {
      for (String scope : List.of(r.zone(), r.region(), GLOBAL)) {
        Double limit = quotas.get(scope + "|" + q);
        if (limit == null) {
          limit = quotas.get(scope + "|" + ANY);
        }
        if (limit != null && quotaUsed(scope, q) + r.units() > limit) {
          throw new AllocationDenied(
              AllocationDenied.Reason.QUOTA, q, scope, limit,
              "quota " + q + " exceeded in " + scope + ": limit " + limit);
        }
      }
    }
    WorkloadPlan plan = workloadPlan(r.resourceName());
    Instant running = now.plus(provisioningTimes.getOrDefault(r.pool(), defaultProvisioningTime));
    Instant ends = running.plus(plan.runTime());
    Entry e = new Entry(r, now, running, ends, plan.exitCode(), Map.copyOf(labels));
    if (r.spot()) {
      double rate = preemptionRates.getOrDefault(r.zone(), preemptionRates.getOrDefault(ANY, 0.0));
      if (rate > 0) {
        double hours = -Math.log(1 - random.nextDouble()) / rate;
        Instant at = now.plusMillis((long) (hours * 3_600_000));
        if (at.isBefore(ends)) {
          e.preemptedAt = at;
        }
      }
    }
    resources.put(r.resourceName(), e);
    allocations++;
    return view(r.resourceName(), e);
  }

  /** The resource, if it exists. */
  public synchronized Optional<SimulatedResource> find(String resourceName) {
    Entry e = resources.get(resourceName);
    return e == null ? Optional.empty() : Optional.of(view(resourceName, e));
  }

  /** Deletes the resource, freeing its capacity. Returns false when it did not exist. */
  public synchronized boolean delete(String resourceName) {
    return resources.remove(resourceName) != null;
  }

  /** Every resource that exists, in creation order. */
  public synchronized List<SimulatedResource> resources() {
    List<SimulatedResource> out = new ArrayList<>();
    resources.forEach((k, v) -> out.add(view(k, v)));
    return out;
  }

  /** How many resources exist (whatever their phase): what a leak test checks is zero. */
  public synchronized int liveResources() {
    return resources.size();
  }

  /** How many allocations ever succeeded (adoptions not counted). */
  public synchronized long allocations() {
    return allocations;
  }

  /** Every call recorded so far. */
  public List<Call> calls() {
    return Collections.unmodifiableList(calls);
  }

  /** Calls of one operation. */
  public List<Call> calls(String operation) {
    return calls.stream().filter(c -> c.operation().equals(operation)).toList();
  }

  // ---- internals --------------------------------------------------------------------------------

  private boolean isStockedOut(String zone, String pool, Instant now) {
    for (Stockout s : stockouts) {
      if ((s.zone.equals(ANY) || s.zone.equals(zone)) && (s.pool.equals(ANY) || s.pool.equals(pool))
          && !now.isBefore(s.from) && now.isBefore(s.until)) {
        return true;
      }
    }
    return false;
  }

  private int freeCapacity(String zone, String pool) {
    Integer cap = capacity.get(zone + "|" + pool);
    if (cap == null) {
      cap = capacity.get(zone + "|" + ANY);
    }
    if (cap == null) {
      cap = capacity.get(ANY + "|" + pool);
    }
    if (cap == null) {
      return Integer.MAX_VALUE;
    }
    int used = 0;
    Instant now = clock.instant();
    for (Entry e : resources.values()) {
      if (e.request.zone().equals(zone) && e.request.pool().equals(pool) && holdsCapacity(e, now)) {
        used += e.request.units();
      }
    }
    return cap - used;
  }

  private double quotaUsed(String scope, String quota) {
    double used = 0;
    Instant now = clock.instant();
    for (Entry e : resources.values()) {
      AllocationRequest r = e.request;
      boolean inScope = scope.equals(GLOBAL) || r.zone().equals(scope) || r.region().equals(scope);
      if (inScope && r.quotaNames().contains(quota) && holdsCapacity(e, now)) {
        used += r.units();
      }
    }
    return used;
  }

  private static boolean holdsCapacity(Entry e, Instant now) {
    return e.preemptedAt == null || now.isBefore(e.preemptedAt);
  }

  private SimulatedResource view(String name, Entry e) {
    Instant now = clock.instant();
    SimulatedResource.Phase phase;
    Integer exit = null;
    Instant ends = e.endsAt;
    if (e.preemptedAt != null && !now.isBefore(e.preemptedAt)) {
      phase = SimulatedResource.Phase.PREEMPTED;
      ends = e.preemptedAt;
    } else if (now.isBefore(e.runningAt)) {
      phase = SimulatedResource.Phase.PROVISIONING;
    } else if (now.isBefore(e.endsAt)) {
      phase = SimulatedResource.Phase.RUNNING;
    } else {
      phase = SimulatedResource.Phase.EXITED;
      exit = e.exitCode;
    }
    return new SimulatedResource(name, e.request, phase, exit, e.createdAt, e.runningAt, ends, e.labels);
  }
}
