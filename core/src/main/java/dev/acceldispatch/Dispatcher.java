package dev.acceldispatch;

import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.internal.DispatchEngine;
import dev.acceldispatch.internal.EngineConfig;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.PlacementPolicy;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Queues jobs, places each on the best offer of the providers it was built with, provisions it
 * with failover, tracks it to its end, accounts its cost and releases what it created.
 *
 * <p>Thread-safe. The host owns its lifecycle: build one with {@link #builder()}, share it, and
 * {@link #close()} it. No static state, no shutdown hook.
 *
 * <pre>{@code
 * try (Dispatcher d = Dispatcher.builder().provider(myProvider).build()) {
 *   JobHandle job = d.submit(JobSpec.builder("train").script("python train.py")
 *       .accelerators(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8)).build());
 *   job.result().join();
 * }
 * }</pre>
 */
public interface Dispatcher extends AutoCloseable {

  /** A builder with the defaults: in-memory store, real time, balanced placement. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Validates, stores and queues a job. The store write has happened when this returns.
   *
   * @throws NoFeasibleOfferException when no wired offer can ever run it (the message says why)
   * @throws QueueFullException when the dispatcher holds {@code maxQueuedJobs} unfinished jobs
   * @throws DispatcherClosedException after {@link #close()}
   */
  JobHandle submit(JobSpec spec);

  /** The job with this id, if this dispatcher's store knows it. */
  Optional<JobHandle> job(String jobId);

  /**
   * One page of the jobs {@code query} selects, read from the store, so that jobs run by other
   * dispatchers on a shared store and jobs that ended before this dispatcher started are listed
   * too. Newest first; {@link JobPage#nextPage()} continues.
   */
  JobPage jobs(JobQuery query);

  /**
   * Ranks every feasible offer for {@code spec} with estimated cost, estimated time to start and
   * the reason for each rank, as placement would right now. Provisions nothing.
   *
   * <p>Offers that could run the job but cannot be used right now (blocked after a stockout or
   * quota error, full, or behind an open circuit breaker) are not ranked; they are listed in {@link
   * Plan#excluded()} with the reason, so the ranking may be empty.
   *
   * @throws NoFeasibleOfferException when no wired offer could ever run the job
   */
  Plan plan(JobSpec spec);

  /** What a tenant has used so far. */
  TenantUsage usage(String tenant);

  /** Adds a listener for every event from now on. */
  void addListener(DispatchListener listener);

  /**
   * Stops the dispatcher. With a store that is not durable (the in-memory default) every unfinished
   * job is cancelled and its resources released first, waiting up to the builder's {@code
   * shutdownTimeout}, because nothing could find those resources again. With a durable store,
   * running jobs are left to a dispatcher that starts later on the same store; on a {@link
   * dev.acceldispatch.spi.LeasingJobStore} their leases are given back before this returns, so
   * that another instance takes them over at once. The dispatcher's own thread is stopped without
   * interrupting a store write in progress, so the host's store stays usable.
   */
  @Override
  void close();

  /** Builds a {@link Dispatcher}. Not thread-safe; {@link #build()} copies every setting. */
  final class Builder {
    private final List<Provider> providers = new ArrayList<>();
    private final Map<String, ProviderLimits> limits = new LinkedHashMap<>();
    private final Map<String, TenantQuota> tenants = new LinkedHashMap<>();
    private final List<DispatchListener> listeners = new ArrayList<>();
    private JobStore store;
    private TaskScheduler scheduler;
    private Executor providerExecutor;
    private PlacementPolicy placementPolicy = PlacementPolicy.BALANCED;
    private String fleetId = "default";
    private int maxQueuedJobs = 1_000_000;
    private Duration capacityBlock = Duration.ofMinutes(10);
    private Duration capacityBlockMax = Duration.ofMinutes(40);
    private boolean stockoutCoversLargerShapes = true;
    private Duration quotaBlock = Duration.ofMinutes(30);
    private Duration preemptionPenalty = Duration.ofMinutes(30);
    private Duration pollInitial = Duration.ofSeconds(2);
    private Duration pollMax = Duration.ofSeconds(30);
    private Duration reconcileInterval = Duration.ofMinutes(10);
    private Duration releaseRetryInterval = Duration.ofSeconds(30);
    private Duration shutdownTimeout = Duration.ofSeconds(60);
    private double defaultSpotPreemptionsPerHour = 0.05;
    private Duration checkpointRestartOverhead = Duration.ofMinutes(5);
    private Duration pendingTimeout = Duration.ofMinutes(15);
    private Duration leaseDuration = Duration.ofSeconds(60);

    private Builder() {}

    /** Wires a provider. Its id must be unique among the providers wired. */
    public Builder provider(Provider provider) {
      Objects.requireNonNull(provider, "provider");
      if (providers.stream().anyMatch(p -> p.id().equals(provider.id()))) {
        throw new IllegalArgumentException("provider: id '" + provider.id() + "' is wired twice");
      }
      providers.add(provider);
      return this;
    }

    /** Overrides a provider's own {@link Provider#limits()}. */
    public Builder providerLimits(String providerId, ProviderLimits limits) {
      this.limits.put(Objects.requireNonNull(providerId, "providerId"), Objects.requireNonNull(limits, "limits"));
      return this;
    }

    /** Where jobs are kept; default in memory (not durable). */
    public Builder store(JobStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * The engine's clock and thread; default real time on one daemon thread owned by the
     * dispatcher. Tests and simulations pass the testkit's {@code ManualScheduler}.
     */
    public Builder scheduler(TaskScheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Where blocking provider calls run; default a pool of up to 16 daemon threads owned by the
     * dispatcher. With a manual scheduler, pass {@code Runnable::run} to run them inline. An
     * executor that runs calls inline gets no per-call timeout ({@link
     * dev.acceldispatch.spi.ProviderLimits#callTimeout()}): a call on the engine's own thread
     * cannot be given up on while it runs.
     */
    public Builder providerExecutor(Executor executor) {
      this.providerExecutor = Objects.requireNonNull(executor, "providerExecutor");
      return this;
    }

    /** How offers are ranked; default {@link PlacementPolicy#BALANCED}. */
    public Builder placementPolicy(PlacementPolicy policy) {
      this.placementPolicy = Objects.requireNonNull(policy, "placementPolicy");
      return this;
    }

    /**
     * The fleet id put on every resource, which the orphan reconciler looks for. Dispatchers that
     * do not share a store must not share a fleet id in the same cloud account, or each would
     * release the other's machines as orphans. Default {@code default}.
     */
    public Builder fleetId(String fleetId) {
      if (fleetId == null || !fleetId.matches("[a-z][a-z0-9-]{0,30}")) {
        throw new IllegalArgumentException(
            "fleetId must be 1 to 31 of [a-z0-9-] starting with a letter, got '" + fleetId + "'");
      }
      this.fleetId = fleetId;
      return this;
    }

    /** Limits and fair-share weight of a tenant; tenants not named here are unlimited, weight 1. */
    public Builder tenant(String tenant, TenantQuota quota) {
      tenants.put(Objects.requireNonNull(tenant, "tenant"), Objects.requireNonNull(quota, "quota"));
      return this;
    }

    /** Adds a listener. */
    public Builder listener(DispatchListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** The most unfinished jobs held before {@code submit} refuses; default 1,000,000. */
    public Builder maxQueuedJobs(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxQueuedJobs must be >= 1, got " + max);
      }
      this.maxQueuedJobs = max;
      return this;
    }

    /**
     * How long a capacity failure blocks that (provider, zone, shape), always the same: {@code
     * capacityBlock(d)} is {@code capacityBlock(d, d)}.
     */
    public Builder capacityBlock(Duration d) {
      return capacityBlock(d, d);
    }

    /**
     * How long a capacity failure blocks that (provider, zone, shape): {@code first} after a
     * fresh stockout, doubled each time the next try there fails too (a failure within one block
     * length of the last block's end), up to {@code max}; a resource that starts there resets it.
     * Other zones are tried at once either way: this only spaces out re-probing a zone that stays
     * out of stock, which otherwise costs a failed create per zone and shape every {@code first}.
     * Default 10 min up to 40 min.
     */
    public Builder capacityBlock(Duration first, Duration max) {
      positive("capacityBlock", first);
      positive("capacityBlockMax", max);
      if (max.compareTo(first) < 0) {
        throw new IllegalArgumentException("capacityBlock max must be >= first, got first " + first + ", max " + max);
      }
      this.capacityBlock = first;
      this.capacityBlockMax = max;
      return this;
    }

    /**
     * Whether a capacity failure of a shape in a zone also blocks the larger shapes of the same
     * accelerator type there (no single H100 in a zone means no eight either: capacity is per type
     * and zone). Default true; false blocks only the shape that failed, as SkyPilot's blocklist
     * does, at the price of a failed create per shape.
     */
    public Builder stockoutCoversLargerShapes(boolean covers) {
      this.stockoutCoversLargerShapes = covers;
      return this;
    }

    /** How long a quota failure blocks its scope; default 30 min. */
    public Builder quotaBlock(Duration d) {
      this.quotaBlock = positive("quotaBlock", d);
      return this;
    }

    /** How long a zone is avoided for spot after a preemption there; default 30 min. */
    public Builder preemptionPenalty(Duration d) {
      this.preemptionPenalty = positive("preemptionPenalty", d);
      return this;
    }

    /** Status polling: first interval and the most it backs off to; default 2 s to 30 s. */
    public Builder pollInterval(Duration initial, Duration max) {
      positive("pollInterval initial", initial);
      positive("pollInterval max", max);
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("pollInterval: max must be >= initial");
      }
      this.pollInitial = initial;
      this.pollMax = max;
      return this;
    }

    /** How often the orphan reconciler runs (and once at start); default 10 min. */
    public Builder reconcileInterval(Duration d) {
      this.reconcileInterval = positive("reconcileInterval", d);
      return this;
    }

    /** How often a release the cloud refused is tried again; default 30 s. */
    public Builder releaseRetryInterval(Duration d) {
      this.releaseRetryInterval = positive("releaseRetryInterval", d);
      return this;
    }

    /** How long {@link #close()} waits for releases on a non-durable store; default 60 s. */
    public Builder shutdownTimeout(Duration d) {
      this.shutdownTimeout = positive("shutdownTimeout", d);
      return this;
    }

    /**
     * The spot preemption rate assumed before any preemption has been seen, per hour; default 0.05
     * (one in twenty hours).
     */
    public Builder defaultSpotPreemptionsPerHour(double rate) {
      if (!(rate >= 0) || !Double.isFinite(rate)) {
        throw new IllegalArgumentException("defaultSpotPreemptionsPerHour must be >= 0, got " + rate);
      }
      this.defaultSpotPreemptionsPerHour = rate;
      return this;
    }

    /** Work lost per preemption by a job that checkpoints; default 5 min. */
    public Builder checkpointRestartOverhead(Duration d) {
      this.checkpointRestartOverhead = Objects.requireNonNull(d, "checkpointRestartOverhead");
      return this;
    }

    /**
     * How long an attempt may stay pending (queued at the cloud, booting) before the engine gives
     * up on it, releases it, and fails over as for a stockout; default 15 min.
     */
    public Builder pendingTimeout(Duration d) {
      this.pendingTimeout = positive("pendingTimeout", d);
      return this;
    }

    /**
     * With a store shared by several dispatchers: how long a job's lease lasts without a
     * heartbeat (renewed every third of it). A dispatcher that dies loses its jobs to the others
     * this long after its last heartbeat. Default 60 s.
     */
    public Builder leaseDuration(Duration d) {
      this.leaseDuration = positive("leaseDuration", d);
      return this;
    }

    /**
     * Builds and starts the dispatcher: it recovers unfinished jobs from the store and runs the
     * orphan reconciler once.
     *
     * @throws IllegalStateException when no provider is wired
     */
    public Dispatcher build() {
      if (providers.isEmpty()) {
        throw new IllegalStateException("provider: wire at least one provider with provider(...)");
      }
      return DispatchEngine.start(
          EngineConfig.builder()
              .providers(providers).limits(limits).tenants(tenants).listeners(listeners)
              .store(store).scheduler(scheduler).providerExecutor(providerExecutor)
              .placementPolicy(placementPolicy).fleetId(fleetId).maxQueuedJobs(maxQueuedJobs)
              .capacityBlock(capacityBlock).capacityBlockMax(capacityBlockMax)
              .stockoutCoversLargerShapes(stockoutCoversLargerShapes).quotaBlock(quotaBlock)
              .preemptionPenalty(preemptionPenalty).pollInitial(pollInitial).pollMax(pollMax)
              .reconcileInterval(reconcileInterval).releaseRetryInterval(releaseRetryInterval)
              .shutdownTimeout(shutdownTimeout).defaultSpotPreemptionsPerHour(defaultSpotPreemptionsPerHour)
              .checkpointRestartOverhead(checkpointRestartOverhead).pendingTimeout(pendingTimeout)
              .leaseDuration(leaseDuration)
              .build());
    }

    private static Duration positive(String field, Duration d) {
      Objects.requireNonNull(d, field);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(field + " must be positive, got " + d);
      }
      return d;
    }
  }
}
