package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an attempt's create, and acts on its answer: an accepted create starts the polls, a create
 * that returns after its attempt ended is released, a failed start blocks what {@link
 * FailoverRules} says, releases the name (a lost response may hide a machine) and requeues the
 * job. Engine thread only.
 */
final class AttemptLauncher {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  private final EngineContext ctx;

  AttemptLauncher(EngineContext ctx) {
    this.ctx = ctx;
  }

  void launch(JobRun job, Attempt a) {
    Offer o = a.offer();
    Map<String, String> engineEnv = new LinkedHashMap<>();
    engineEnv.put("ACCEL_DISPATCH_JOB_ID", job.id());
    engineEnv.put("ACCEL_DISPATCH_ATTEMPT", Integer.toString(a.number()));
    job.spec().checkpointLocation().ifPresent(c -> engineEnv.put("ACCEL_DISPATCH_CHECKPOINT_DIR", c));
    Instant deadline = job.spec().startDeadline().map(job.submittedAt()::plus).orElse(null);
    ProvisionRequest req = new ProvisionRequest(a.resourceName(), ctx.cfg.fleetId(), job.id(), a.number(), o, a.spot(),
        job.spec().workload().withEngineEnv(engineEnv), job.spec().labels(), deadline);
    ProviderGateway gw = ctx.gateway(o.providerId());
    job.provisionSent();
    ctx.health.createStarted(o);
    int n = a.number();
    EngineContext.withMdc(job, a, () -> log.info("provisioning {} on {}{}", a.resourceName(), o.key(), a.spot() ? " (spot)" : ""));
    gw.call(o.region(), o.zone(), () -> gw.provider().provision(req))
        .whenComplete((res, err) -> ctx.post(() -> onProvisioned(job, n, res, err)));
  }

  private void onProvisioned(JobRun job, int n, ProvisionedResource res, Throwable err) {
    job.provisionReturned();
    Attempt a = job.attempt(n);
    if (ctx.health.createEnded(a.offer(), err == null) && err == null) {
      // Jobs may be waiting for this offer's slow start to let another create through.
      ctx.pass.request();
    }
    if (!a.isLive()) {
      // Cancelled, timed out or outraced while the create was in flight: whatever it made goes.
      ctx.releaser.release(job, a, res != null ? res : nameOf(a));
      ctx.lifecycle.completeIfSettled(job);
      return;
    }
    if (err == null) {
      job.provisioned(n, res);
      ctx.lifecycle.persist(job);
      job.resetPollDelay(n, ctx.cfg.pollInitial());
      ctx.poller.schedule(job, n, ctx.cfg.pollInitial());
      return;
    }
    onFailedStart(job, n, EngineContext.asProviderException(err, a.offer()));
  }

  /** A create failed, or the cloud gave up on a resource that never ran: block, release, fail over. */
  void onFailedStart(JobRun job, int n, ProviderException e) {
    Instant now = ctx.now();
    Attempt a = job.attempt(n);
    Offer o = a.offer();
    FailoverRules.Verdict v = FailoverRules.onFailedStart(e, o, now, ctx.cfg.quotaBlock());
    Instant blockedUntil = switch (v.setAside()) {
      case CAPACITY_BLOCK -> ctx.health.blockForCapacity(o, ctx.cfg.stockoutCoversLargerShapes(), now, ctx.cfg.capacityBlock(),
          ctx.cfg.capacityBlockMax(), "capacity: " + e.cloudCode());
      case BLOCK -> {
        ctx.health.block(v.block());
        yield v.block().until();
      }
      case EXCLUDE_OFFER -> {
        job.memo().exclude(ctx.keys.of(o), refusal(e));
        yield null;
      }
    };
    if (e instanceof ProviderException.PermissionDenied) {
      job.memo().refused(refusal(e));
    }
    ctx.health.recordFailure(o, now);
    EngineContext.withMdc(job, a, () -> log.warn("job {} attempt {} on {} failed to start ({}): {}; failing over",
        job.id(), n, o.key(), e.kind(), e.getMessage()));
    ctx.lifecycle.endAttempt(job, a, v.outcome(), e.kind() + ": " + e.getMessage(), now);
    ctx.emit(new DispatchEvent.Failover(now, job.id(), n, o, e.kind(), e.getMessage(), blockedUntil));
    // The create may have happened even though we saw an error (a lost response, a timeout):
    // release the name, which is a no-op when nothing exists, and start the job nowhere else
    // until that release succeeded.
    if (FailoverRules.mayHaveMadeAMachine(e, a.resource() != null)) {
      job.failedStartUnconfirmed(n);
    }
    ctx.releaser.release(job, a, a.resource() != null ? a.resource() : nameOf(a));
    ctx.lifecycle.afterAttemptEnded(job, "failed over from " + o.key() + " (" + e.kind() + ")");
  }

  /**
   * A provider's refusal in its own words, for the job's final message: the real reason (a Docker
   * daemon out of reach, secrets it cannot deliver) is the cloud's code and message, not ours.
   */
  static String refusal(ProviderException e) {
    return e.getMessage() + " (" + e.kind() + ")";
  }

  /** The resource an attempt's create would have made, by its deterministic name. */
  static ProvisionedResource nameOf(Attempt a) {
    return ProvisionedResource.of(a.offer().providerId(), a.resourceName(), a.offer().zone());
  }
}
