package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.ProvisionedResource;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists what each provider holds under this fleet id, every {@code reconcileInterval}, and
 * releases what no live attempt owns (crash leftovers, creates that landed after the engine gave
 * up on them). Engine thread only.
 */
final class OrphanReconciler {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  private final EngineContext ctx;

  OrphanReconciler(EngineContext ctx) {
    this.ctx = ctx;
  }

  /** Reconciles now, then every {@code reconcileInterval} while the engine runs. */
  void runAndReschedule() {
    reconcile();
    if (!ctx.closed.get() || ctx.ownership.store().isDurable()) {
      ctx.schedule(this::runAndReschedule, ctx.cfg.reconcileInterval());
    }
  }

  /** Releases every resource of this fleet that no live attempt owns. */
  void reconcile() {
    if (ctx.closed.get()) {
      return;
    }
    for (ProviderGateway gw : ctx.gateways.values()) {
      gw.callOnce("*", null, () -> gw.provider().listOwned(ctx.cfg.fleetId()))
          .whenComplete((list, err) -> ctx.post(() -> {
            if (err != null) {
              log.warn("reconciler could not list {}: {}", gw.provider().id(), EngineContext.unwrap(err).getMessage());
              return;
            }
            releaseUnowned(list);
          }));
    }
  }

  private void releaseUnowned(List<ProvisionedResource> listed) {
    Set<String> ownedInStore = null;
    for (ProvisionedResource r : listed) {
      if (ownedByLiveAttemptHere(r.name()) || ctx.releaser.isRetrying(r)) {
        continue;
      }
      if (ctx.ownership.othersMayOwn()) {
        if (ownedInStore == null) {
          ownedInStore = liveResourceNamesInStore();
        }
        if (ownedInStore.contains(r.name())) {
          continue;
        }
      }
      log.info("reconciler: releasing {} at {} in {}: labelled with fleet '{}' but no live attempt owns it",
          r.name(), r.providerId(), r.zone(), ctx.cfg.fleetId());
      ctx.emit(new DispatchEvent.OrphanReleased(ctx.now(), r.providerId(), r.name(), "no live attempt owns it"));
      ctx.releaser.release(null, null, r);
    }
  }

  /**
   * Whether a live attempt of a job of this engine has this resource name, looked up through the
   * job and attempt the name was made for ({@link ResourceNames}), so that a reconcile pass costs
   * what the cloud lists, not what the engine holds (tens of thousands of queued jobs).
   */
  private boolean ownedByLiveAttemptHere(String name) {
    return ResourceNames.parse(name).map(owner -> {
      JobRun job = ctx.jobs.get(owner.jobId());
      Attempt a = job == null ? null : job.attempt(owner.attempt());
      return a != null && a.isLive() && a.resourceName().equals(name);
    }).orElse(false);
  }

  /**
   * Resource names of live attempts of unfinished jobs in the store: other dispatchers on the same
   * store, and jobs not yet recovered or leased here, own resources too.
   */
  private Set<String> liveResourceNamesInStore() {
    Set<String> names = new HashSet<>();
    for (JobRecord r : ctx.ownership.store().unfinished()) {
      for (Attempt a : r.attempts()) {
        if (a.isLive()) {
          names.add(a.resourceName());
        }
      }
    }
    return names;
  }
}
