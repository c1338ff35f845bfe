package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.ProvisionedResource;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases machines: an attempt's when it ends, an orphan's when the reconciler finds one. A
 * release the cloud refuses is retried every {@code releaseRetryInterval} until it succeeds (a
 * leaked accelerator is the worst bug this library can have).
 *
 * <p>An attempt's machine counts against its offer's capacity until its release has succeeded
 * (the cloud still holds it, and a finite offer, such as one local CPU slot, refuses the next
 * create until then); only then is its slot freed and a pass asked for. A failed start's release
 * also tells its job that the machine it may have made is gone ({@link JobRun#releaseConfirmed}).
 * Engine thread only.
 */
final class Releaser {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  /** A release being retried: for an attempt's machine, its job and attempt, else nulls. */
  private record Pending(ProvisionedResource resource, JobRun job, Attempt attempt) {}

  private final EngineContext ctx;
  /** Releases being retried in the background, by provider and resource name. */
  private final Map<String, Pending> retrying = new LinkedHashMap<>();

  Releaser(EngineContext ctx) {
    this.ctx = ctx;
  }

  /** Whether a release of this resource is being retried. */
  boolean isRetrying(ProvisionedResource r) {
    return retrying.containsKey(key(r));
  }

  /**
   * Releases {@code res}; {@code job} and {@code a} (null for an orphan) learn when it is done,
   * and the job's result waits for this first try.
   */
  void release(JobRun job, Attempt a, ProvisionedResource res) {
    send(new Pending(res, job, a), true);
  }

  private void send(Pending p, boolean firstTry) {
    ProvisionedResource res = p.resource();
    ProviderGateway gw = ctx.gateway(res.providerId());
    if (gw == null) {
      log.error("cannot release {}: provider {} is not wired", res.name(), res.providerId());
      return;
    }
    JobRun job = p.job();
    Attempt a = p.attempt();
    if (job != null && firstTry) {
      job.releaseSent();
    }
    Offer o = a == null ? null : a.offer();
    String region = o == null ? res.zone() : o.region();
    gw.call(region, res.zone(), () -> {
          gw.provider().release(res);
          return Boolean.TRUE;
        })
        .whenComplete((v, err) -> ctx.post(() -> {
          if (job != null && firstTry) {
            job.releaseEnded();
          }
          if (err == null) {
            released(p, firstTry);
          } else {
            log.warn("release of {} at {} failed, retrying every {}: {}", res.name(), res.providerId(),
                ctx.cfg.releaseRetryInterval(), EngineContext.unwrap(err).getMessage());
            retryLater(p);
          }
          if (job != null) {
            ctx.lifecycle.completeIfSettled(job);
          }
        }));
  }

  private void released(Pending p, boolean firstTry) {
    ProvisionedResource res = p.resource();
    retrying.remove(key(res));
    JobRun job = p.job();
    Attempt a = p.attempt();
    if (a != null) {
      ctx.slotFreed(a.offer());
      if (job != null) {
        job.releaseConfirmed(a.number());
      }
      ctx.pass.request();
    }
    // A retried release reports no job, as it always has: the job may have ended long ago.
    ctx.emit(new DispatchEvent.ResourceReleased(ctx.now(), job == null || !firstTry ? null : job.id(),
        a == null || !firstTry ? 0 : a.number(), res.providerId(), res.name()));
  }

  private void retryLater(Pending p) {
    String key = key(p.resource());
    if (retrying.put(key, p) == null) {
      ctx.schedule(() -> {
        Pending again = retrying.remove(key);
        if (again != null) {
          send(again, false);
        }
      }, ctx.cfg.releaseRetryInterval());
    }
  }

  private static String key(ProvisionedResource r) {
    return r.providerId() + "/" + r.name();
  }
}
