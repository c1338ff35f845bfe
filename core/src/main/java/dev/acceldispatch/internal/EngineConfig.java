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

/** Every setting of a dispatcher, copied out of its builder. Nulls mean "use the default". */
public record EngineConfig(
    List<Provider> providers,
    Map<String, ProviderLimits> limits,
    Map<String, TenantQuota> tenants,
    List<DispatchListener> listeners,
    JobStore store,
    TaskScheduler scheduler,
    Executor providerExecutor,
    PlacementPolicy placementPolicy,
    String fleetId,
    int maxQueuedJobs,
    Duration capacityBlock,
    Duration capacityBlockMax,
    boolean stockoutCoversLargerShapes,
    Duration quotaBlock,
    Duration preemptionPenalty,
    Duration pollInitial,
    Duration pollMax,
    Duration reconcileInterval,
    Duration releaseRetryInterval,
    Duration shutdownTimeout,
    double defaultSpotPreemptionsPerHour,
    Duration checkpointRestartOverhead,
    Duration pendingTimeout,
    Duration leaseDuration) {}
