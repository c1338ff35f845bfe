package dev.acceldispatch.internal;

import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.LeasingJobStore;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns the jobs in the store, chosen once when the engine is built from the store's type: on
 * a plain {@link JobStore} this engine owns every job ({@link SingleOwner}); on a {@link
 * LeasingJobStore} it owns the jobs it holds a lease on ({@link Leased}), renews them, gives them
 * back, and takes over those whose owner died.
 */
interface JobOwnership {

  /** The ownership a store calls for. */
  static JobOwnership of(JobStore store, EngineContext ctx, String instanceId) {
    return store instanceof LeasingJobStore leasing ? new Leased(leasing, ctx, instanceId) : new SingleOwner(store, ctx);
  }

  JobStore store();

  /**
   * Stores a new job, owned by this engine.
   *
   * @throws IllegalStateException when a job with that id exists
   */
  void insert(JobRecord job, Instant now);

  /** The job ended: whatever ownership it held is given up. */
  void ended(String jobId);

  /** Takes over the unfinished jobs this engine may own (after a restart), and keeps doing so. */
  void start();

  /** Gives every unfinished job of {@code jobs} back at once (the engine is closing), on the calling thread. */
  void handBack(Iterable<JobRun> jobs);

  /** Whether anyone but this engine may own live resources of this fleet (the reconciler must ask the store). */
  boolean othersMayOwn();

  /** Asks the owner of a job this engine does not run to cancel it; false when nobody can be asked. */
  boolean requestCancel(String jobId);

  /** The only owner: recovers every unfinished job of a durable store at start. */
  final class SingleOwner implements JobOwnership {
    private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);
    private final JobStore store;
    private final EngineContext ctx;

    SingleOwner(JobStore store, EngineContext ctx) {
      this.store = store;
      this.ctx = ctx;
    }

    @Override
    public JobStore store() {
      return store;
    }

    @Override
    public void insert(JobRecord job, Instant now) {
      store.insert(job);
    }

    @Override
    public void ended(String jobId) {
      // nothing to give back
    }

    @Override
    public void start() {
      List<JobRecord> left = toRecover();
      if (!left.isEmpty()) {
        log.info("recovering {} unfinished jobs from the store", left.size());
        left.forEach(ctx.recovery::adopt);
        ctx.pass.request();
      }
    }

    /**
     * The store's unfinished jobs this engine does not run yet. Jobs submitted before {@link
     * #start} ran (it is the engine thread's first task, a host may submit before it) are in the
     * store too, but already this engine's own: they are neither recovered nor counted.
     */
    List<JobRecord> toRecover() {
      return store.unfinished().stream().filter(r -> !ctx.jobs.containsKey(r.id())).toList();
    }

    @Override
    public void handBack(Iterable<JobRun> jobs) {
      // nobody to hand them to: a later engine on the same durable store recovers them
    }

    @Override
    public boolean othersMayOwn() {
      return store.isDurable();
    }

    @Override
    public boolean requestCancel(String jobId) {
      return false;
    }
  }

  /** Owner of the jobs it leases from a store shared with other engines. */
  final class Leased implements JobOwnership {
    private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);
    private static final int ACQUIRE_PER_HEARTBEAT = 1000;
    private final LeasingJobStore store;
    private final EngineContext ctx;
    private final String instanceId;

    Leased(LeasingJobStore store, EngineContext ctx, String instanceId) {
      this.store = store;
      this.ctx = ctx;
      this.instanceId = instanceId;
    }

    @Override
    public JobStore store() {
      return store;
    }

    @Override
    public void insert(JobRecord job, Instant now) {
      store.insertLeased(job, instanceId, now.plus(ctx.cfg.leaseDuration()));
    }

    @Override
    public void ended(String jobId) {
      store.releaseLease(instanceId, jobId);
    }

    @Override
    public void start() {
      heartbeat();
    }

    /**
     * Renews this instance's leases, drops jobs another instance took over, acts on cancellations
     * asked through other instances, and leases jobs whose owner died.
     */
    private void heartbeat() {
      if (ctx.closed.get()) {
        return;
      }
      Instant now = ctx.now();
      try {
        // Only jobs already in the store before the renewal can be missing from its answer for a
        // reason: one being submitted meanwhile is (or will be) leased to us but was not there to renew.
        List<JobRun> known = ctx.jobs.values().stream().filter(JobRun::isStored).toList();
        Set<String> held = store.renewLeases(instanceId, now, ctx.cfg.leaseDuration());
        for (JobRun j : known) {
          if (!j.state().isTerminal() && !held.contains(j.id())) {
            ctx.recovery.abandon(j, "its lease was taken over by another dispatcher");
          }
        }
        for (String id : store.cancelRequests(instanceId)) {
          JobRun j = ctx.jobs.get(id);
          if (j != null) {
            ctx.lifecycle.finish(j, JobState.CANCELLED, "cancelled by the host (through another dispatcher)");
          }
        }
        List<JobRecord> taken = store.acquireLeases(instanceId, now, ctx.cfg.leaseDuration(), ACQUIRE_PER_HEARTBEAT);
        if (!taken.isEmpty()) {
          log.info("leased {} unfinished jobs (new, or left by a dispatcher that stopped)", taken.size());
          taken.forEach(ctx.recovery::adopt);
          ctx.pass.request();
        }
      } catch (RuntimeException e) {
        log.warn("lease heartbeat failed; retrying", e);
      }
      ctx.schedule(this::heartbeat, ctx.cfg.leaseDuration().dividedBy(3));
    }

    @Override
    public void handBack(Iterable<JobRun> jobs) {
      for (JobRun j : jobs) {
        if (!j.state().isTerminal()) {
          try {
            store.releaseLease(instanceId, j.id());
          } catch (RuntimeException e) {
            log.warn("closing: could not give back the lease of {}; it expires on its own", j.id(), e);
          }
        }
      }
    }

    @Override
    public boolean othersMayOwn() {
      return true;
    }

    @Override
    public boolean requestCancel(String jobId) {
      return store.requestCancel(jobId);
    }
  }
}
