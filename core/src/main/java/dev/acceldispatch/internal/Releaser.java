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
 * leaked accelerator is the worst bug this library can have). Engine thread only.
 */
final class Releaser {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  private final EngineContext ctx;
  /** Releases being retried in the background, by provider and resource name. */
  private final Map<String, ProvisionedResource> retrying = new LinkedHashMap<>();

  Releaser(EngineContext ctx) {
    this.ctx = ctx;
  }

  /** Whether a release of this resource is being retried. */
  boolean isRetrying(ProvisionedResource r) {
    return retrying.containsKey(key(r));
  }

  /**
   * Releases {@code res}; {@code job} and {@code a} (null for an orphan) learn when it is done.
   */
  void release(JobRun job, Attempt a, ProvisionedResource res) {
    ProviderGateway gw = ctx.gateway(res.providerId());
    if (gw == null) {
      log.error("cannot release {}: provider {} is not wired", res.name(), res.providerId());
      return;
    }
    if (job != null) {
      job.releaseSent();
    }
    Offer o = a == null ? null : a.offer();
    String region = o == null ? res.zone() : o.region();
    gw.call(region, res.zone(), () -> {
          gw.provider().release(res);
          return Boolean.TRUE;
        })
        .whenComplete((v, err) -> ctx.post(() -> {
          if (job != null) {
            job.releaseEnded();
          }
          if (err == null) {
            retrying.remove(key(res));
            ctx.emit(new DispatchEvent.ResourceReleased(ctx.now(), job == null ? null : job.id(), a == null ? 0 : a.number(),
                res.providerId(), res.name()));
          } else {
            log.warn("release of {} at {} failed, retrying every {}: {}", res.name(), res.providerId(),
                ctx.cfg.releaseRetryInterval(), EngineContext.unwrap(err).getMessage());
            retryLater(res);
          }
          if (job != null) {
            ctx.lifecycle.completeIfSettled(job);
          }
        }));
  }

  private void retryLater(ProvisionedResource res) {
    String key = key(res);
    if (retrying.put(key, res) == null) {
      ctx.schedule(() -> {
        ProvisionedResource r = retrying.remove(key);
        if (r != null) {
          release(null, null, r);
        }
      }, ctx.cfg.releaseRetryInterval());
    }
  }

  private static String key(ProvisionedResource r) {
    return r.providerId() + "/" + r.name();
  }
}
