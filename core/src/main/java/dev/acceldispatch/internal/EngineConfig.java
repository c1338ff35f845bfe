package dev.acceldispatch.internal;

import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.PlacementPolicy;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Every setting of a dispatcher, copied out of its builder by name ({@link #builder()}), not by
 * position: two dozen positional arguments of which half are durations let a swap compile. Nulls
 * mean "use the default" for the store, scheduler and executor; the public builder validates and
 * defaults everything else before it gets here.
 */
public final class EngineConfig {
  private final List<Provider> providers;
  private final Map<String, ProviderLimits> limits;
  private final Map<String, TenantQuota> tenants;
  private final List<DispatchListener> listeners;
  private final JobStore store;
  private final TaskScheduler scheduler;
  private final Executor providerExecutor;
  private final PlacementPolicy placementPolicy;
  private final String fleetId;
  private final int maxQueuedJobs;
  private final Duration capacityBlock;
  private final Duration capacityBlockMax;
  private final boolean stockoutCoversLargerShapes;
  private final Duration quotaBlock;
  private final Duration preemptionPenalty;
  private final Duration pollInitial;
  private final Duration pollMax;
  private final Duration reconcileInterval;
  private final Duration releaseRetryInterval;
  private final Duration shutdownTimeout;
  private final double defaultSpotPreemptionsPerHour;
  private final Duration checkpointRestartOverhead;
  private final Duration pendingTimeout;
  private final Duration leaseDuration;

  private EngineConfig(Builder b) {
    this.providers = List.copyOf(b.providers);
    this.limits = Map.copyOf(b.limits);
    this.tenants = Map.copyOf(b.tenants);
    this.listeners = List.copyOf(b.listeners);
    this.store = b.store;
    this.scheduler = b.scheduler;
    this.providerExecutor = b.providerExecutor;
    this.placementPolicy = b.placementPolicy;
    this.fleetId = b.fleetId;
    this.maxQueuedJobs = b.maxQueuedJobs;
    this.capacityBlock = b.capacityBlock;
    this.capacityBlockMax = b.capacityBlockMax;
    this.stockoutCoversLargerShapes = b.stockoutCoversLargerShapes;
    this.quotaBlock = b.quotaBlock;
    this.preemptionPenalty = b.preemptionPenalty;
    this.pollInitial = b.pollInitial;
    this.pollMax = b.pollMax;
    this.reconcileInterval = b.reconcileInterval;
    this.releaseRetryInterval = b.releaseRetryInterval;
    this.shutdownTimeout = b.shutdownTimeout;
    this.defaultSpotPreemptionsPerHour = b.defaultSpotPreemptionsPerHour;
    this.checkpointRestartOverhead = b.checkpointRestartOverhead;
    this.pendingTimeout = b.pendingTimeout;
    this.leaseDuration = b.leaseDuration;
  }

  /** A builder with empty lists and maps and every other setting unset. */
  public static Builder builder() {
    return new Builder();
  }

  /** The providers setting. */
  public List<Provider> providers() {
    return providers;
  }

  /** The limits setting. */
  public Map<String, ProviderLimits> limits() {
    return limits;
  }

  /** The tenants setting. */
  public Map<String, TenantQuota> tenants() {
    return tenants;
  }

  /** The listeners setting. */
  public List<DispatchListener> listeners() {
    return listeners;
  }

  /** The store setting. */
  public JobStore store() {
    return store;
  }

  /** The scheduler setting. */
  public TaskScheduler scheduler() {
    return scheduler;
  }

  /** The providerExecutor setting. */
  public Executor providerExecutor() {
    return providerExecutor;
  }

  /** The placementPolicy setting. */
  public PlacementPolicy placementPolicy() {
    return placementPolicy;
  }

  /** The fleetId setting. */
  public String fleetId() {
    return fleetId;
  }

  /** The maxQueuedJobs setting. */
  public int maxQueuedJobs() {
    return maxQueuedJobs;
  }

  /** The capacityBlock setting. */
  public Duration capacityBlock() {
    return capacityBlock;
  }

  /** The capacityBlockMax setting. */
  public Duration capacityBlockMax() {
    return capacityBlockMax;
  }

  /** The stockoutCoversLargerShapes setting. */
  public boolean stockoutCoversLargerShapes() {
    return stockoutCoversLargerShapes;
  }

  /** The quotaBlock setting. */
  public Duration quotaBlock() {
    return quotaBlock;
  }

  /** The preemptionPenalty setting. */
  public Duration preemptionPenalty() {
    return preemptionPenalty;
  }

  /** The pollInitial setting. */
  public Duration pollInitial() {
    return pollInitial;
  }

  /** The pollMax setting. */
  public Duration pollMax() {
    return pollMax;
  }

  /** The reconcileInterval setting. */
  public Duration reconcileInterval() {
    return reconcileInterval;
  }

  /** The releaseRetryInterval setting. */
  public Duration releaseRetryInterval() {
    return releaseRetryInterval;
  }

  /** The shutdownTimeout setting. */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  /** The defaultSpotPreemptionsPerHour setting. */
  public double defaultSpotPreemptionsPerHour() {
    return defaultSpotPreemptionsPerHour;
  }

  /** The checkpointRestartOverhead setting. */
  public Duration checkpointRestartOverhead() {
    return checkpointRestartOverhead;
  }

  /** The pendingTimeout setting. */
  public Duration pendingTimeout() {
    return pendingTimeout;
  }

  /** The leaseDuration setting. */
  public Duration leaseDuration() {
    return leaseDuration;
  }

  /** Sets each setting by name. */
  public static final class Builder {
    private List<Provider> providers = List.of();
    private Map<String, ProviderLimits> limits = Map.of();
    private Map<String, TenantQuota> tenants = Map.of();
    private List<DispatchListener> listeners = List.of();
    private JobStore store;
    private TaskScheduler scheduler;
    private Executor providerExecutor;
    private PlacementPolicy placementPolicy;
    private String fleetId;
    private int maxQueuedJobs;
    private Duration capacityBlock;
    private Duration capacityBlockMax;
    private boolean stockoutCoversLargerShapes;
    private Duration quotaBlock;
    private Duration preemptionPenalty;
    private Duration pollInitial;
    private Duration pollMax;
    private Duration reconcileInterval;
    private Duration releaseRetryInterval;
    private Duration shutdownTimeout;
    private double defaultSpotPreemptionsPerHour;
    private Duration checkpointRestartOverhead;
    private Duration pendingTimeout;
    private Duration leaseDuration;

    private Builder() {}

    /** Sets providers. */
    public Builder providers(List<Provider> providers) {
      this.providers = providers;
      return this;
    }

    /** Sets limits. */
    public Builder limits(Map<String, ProviderLimits> limits) {
      this.limits = limits;
      return this;
    }

    /** Sets tenants. */
    public Builder tenants(Map<String, TenantQuota> tenants) {
      this.tenants = tenants;
      return this;
    }

    /** Sets listeners. */
    public Builder listeners(List<DispatchListener> listeners) {
      this.listeners = listeners;
      return this;
    }

    /** Sets store. */
    public Builder store(JobStore store) {
      this.store = store;
      return this;
    }

    /** Sets scheduler. */
    public Builder scheduler(TaskScheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    /** Sets providerExecutor. */
    public Builder providerExecutor(Executor providerExecutor) {
      this.providerExecutor = providerExecutor;
      return this;
    }

    /** Sets placementPolicy. */
    public Builder placementPolicy(PlacementPolicy placementPolicy) {
      this.placementPolicy = placementPolicy;
      return this;
    }

    /** Sets fleetId. */
    public Builder fleetId(String fleetId) {
      this.fleetId = fleetId;
      return this;
    }

    /** Sets maxQueuedJobs. */
    public Builder maxQueuedJobs(int maxQueuedJobs) {
      this.maxQueuedJobs = maxQueuedJobs;
      return this;
    }

    /** Sets capacityBlock. */
    public Builder capacityBlock(Duration capacityBlock) {
      this.capacityBlock = capacityBlock;
      return this;
    }

    /** Sets capacityBlockMax. */
    public Builder capacityBlockMax(Duration capacityBlockMax) {
      this.capacityBlockMax = capacityBlockMax;
      return this;
    }

    /** Sets stockoutCoversLargerShapes. */
    public Builder stockoutCoversLargerShapes(boolean stockoutCoversLargerShapes) {
      this.stockoutCoversLargerShapes = stockoutCoversLargerShapes;
      return this;
    }

    /** Sets quotaBlock. */
    public Builder quotaBlock(Duration quotaBlock) {
      this.quotaBlock = quotaBlock;
      return this;
    }

    /** Sets preemptionPenalty. */
    public Builder preemptionPenalty(Duration preemptionPenalty) {
      this.preemptionPenalty = preemptionPenalty;
      return this;
    }

    /** Sets pollInitial. */
    public Builder pollInitial(Duration pollInitial) {
      this.pollInitial = pollInitial;
      return this;
    }

    /** Sets pollMax. */
    public Builder pollMax(Duration pollMax) {
      this.pollMax = pollMax;
      return this;
    }

    /** Sets reconcileInterval. */
    public Builder reconcileInterval(Duration reconcileInterval) {
      this.reconcileInterval = reconcileInterval;
      return this;
    }

    /** Sets releaseRetryInterval. */
    public Builder releaseRetryInterval(Duration releaseRetryInterval) {
      this.releaseRetryInterval = releaseRetryInterval;
      return this;
    }

    /** Sets shutdownTimeout. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /** Sets defaultSpotPreemptionsPerHour. */
    public Builder defaultSpotPreemptionsPerHour(double defaultSpotPreemptionsPerHour) {
      this.defaultSpotPreemptionsPerHour = defaultSpotPreemptionsPerHour;
      return this;
    }

    /** Sets checkpointRestartOverhead. */
    public Builder checkpointRestartOverhead(Duration checkpointRestartOverhead) {
      this.checkpointRestartOverhead = checkpointRestartOverhead;
      return this;
    }

    /** Sets pendingTimeout. */
    public Builder pendingTimeout(Duration pendingTimeout) {
      this.pendingTimeout = pendingTimeout;
      return this;
    }

    /** Sets leaseDuration. */
    public Builder leaseDuration(Duration leaseDuration) {
      this.leaseDuration = leaseDuration;
      return this;
    }

    /** The config. */
    public EngineConfig build() {
      return new EngineConfig(this);
    }
  }
}
