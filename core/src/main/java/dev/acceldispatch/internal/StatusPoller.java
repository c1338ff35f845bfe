package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls each provisioned attempt, backing off from {@code pollInitial} to {@code pollMax}, and
 * acts on what the cloud says: pending too long is a failed start, running starts the job (and
 * stops losing hedges), an exit ends it, a preemption or disappearance is a lost attempt. Engine
 * thread only.
 */
final class StatusPoller {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  /** Status calls in a row that may break the SPI contract before the engine gives up on the attempt. */
  static final int MAX_CONTRACT_VIOLATIONS = 5;

  private final EngineContext ctx;

  StatusPoller(EngineContext ctx) {
    this.ctx = ctx;
  }

  void schedule(JobRun job, int n, Duration delay) {
    ctx.schedule(() -> poll(job, n), delay);
  }

  private void poll(JobRun job, int n) {
    Attempt a = job.attempt(n);
    if (a == null || !a.isLive() || a.resource() == null) {
      return;
    }
    ProviderGateway gw = ctx.gateway(a.offer().providerId());
    ProvisionedResource res = a.resource();
    if (gw.canCallOnceNow()) {
      ResourceStatus st;
      try {
        st = gw.callOnceNow(a.offer().region(), a.offer().zone(), () -> gw.provider().status(res));
      } catch (ProviderException e) {
        onStatus(job, n, null, e);
        return;
      }
      onStatus(job, n, st, null);
      return;
    }
    gw.callOnce(a.offer().region(), a.offer().zone(), () -> gw.provider().status(res))
        .whenComplete((st, err) -> ctx.post(() -> onStatus(job, n, st, err)));
  }

  private void pollAgain(JobRun job, int n) {
    schedule(job, n, job.nextPollDelay(n, ctx.cfg.pollInitial(), ctx.cfg.pollMax()));
  }

  private void onStatus(JobRun job, int n, ResourceStatus st, Throwable err) {
    Attempt a = job.attempt(n);
    if (a == null || !a.isLive()) {
      return;
    }
    Instant now = ctx.now();
    if (err != null) {
      ProviderException e = EngineContext.asProviderException(err, a.offer());
      if (FailoverRules.statusErrorEndsStart(e)) {
        ctx.launcher.onFailedStart(job, n, e);
      } else if (ProviderGateway.CONTRACT_VIOLATION.equals(e.cloudCode()) && job.countContractViolation() >= MAX_CONTRACT_VIOLATIONS) {
        giveUp(job, a, e, now);
      } else {
        EngineContext.withMdc(job, a, () -> log.warn("status of {} failed ({}), polling again: {}", a.resourceName(), e.kind(), e.getMessage()));
        pollAgain(job, n);
      }
      return;
    }
    job.clearContractViolations();
    switch (st.phase()) {
      case PENDING -> {
        if (Duration.between(a.startedAt(), now).compareTo(ctx.cfg.pendingTimeout()) > 0) {
          ctx.launcher.onFailedStart(job, n, new ProviderException.CapacityUnavailable(
              a.offer().providerId(), a.offer().zone(), "PENDING_TIMEOUT",
              "still pending after " + ctx.cfg.pendingTimeout() + ": " + st.detail(), null));
        } else {
          pollAgain(job, n);
        }
      }
      case RUNNING -> onRunning(job, a, now);
      case SUCCEEDED, FAILED -> onExit(job, a, st, now);
      case PREEMPTED, GONE -> ctx.lifecycle.onLost(job, a, st, now);
    }
  }

  /**
   * The provider's status broke the SPI contract (null, an undeclared exception) {@link
   * #MAX_CONTRACT_VIOLATIONS} times in a row: the engine stops waiting on it. Not yet running, the
   * attempt failed to start (its name is released, the job fails over); running, it is lost (its
   * machine is released, the job is requeued within its preemption budget).
   */
  private void giveUp(JobRun job, Attempt a, ProviderException e, Instant now) {
    job.clearContractViolations();
    EngineContext.withMdc(job, a, () -> log.error("status of {} broke the provider contract {} times in a row; giving up on it: {}",
        a.resourceName(), MAX_CONTRACT_VIOLATIONS, e.getMessage()));
    if (a.runningAt() == null) {
      ctx.launcher.onFailedStart(job, a.number(), e);
    } else {
      ctx.lifecycle.onLost(job, a, ResourceStatus.gone("its provider's status broke the SPI contract "
          + MAX_CONTRACT_VIOLATIONS + " times in a row: " + e.getMessage()), now);
    }
  }

  private void onRunning(JobRun job, Attempt a, Instant now) {
    int n = a.number();
    if (a.runningAt() == null) {
      Attempt running = job.markRunning(n, now);
      ctx.ledger.attemptRunning(job.spec().tenant(), running.hourlyPrice(), now);
      ctx.health.recordLatency(running.offer().providerId(), Duration.between(running.startedAt(), now));
      ctx.health.recordStarted(running.offer());
      job.resetPollDelay(n, ctx.cfg.pollInitial());
      ctx.lifecycle.stopOthers(job, n, "lost the hedge race to attempt " + n, now);
      ctx.lifecycle.setState(job, JobState.RUNNING, "running on " + running.offer().key() + (running.spot() ? " (spot)" : ""));
      EngineContext.withMdc(job, running, () -> log.info("running {} on {}", running.resourceName(), running.offer().key()));
    }
    if (job.spec().maxTotalCost().isPresent() && job.costAt(now).compareTo(job.spec().maxTotalCost().get()) >= 0) {
      ctx.lifecycle.finish(job, JobState.FAILED, "stopped: its cost reached maxTotalCost " + job.spec().maxTotalCost().get());
      return;
    }
    pollAgain(job, n);
  }

  private void onExit(JobRun job, Attempt a, ResourceStatus st, Instant now) {
    int n = a.number();
    if (a.runningAt() == null) {
      // It ran (it has an exit) between two polls: counted as running since its start.
      a = job.markRunning(n, a.startedAt());
      ctx.ledger.attemptRunning(job.spec().tenant(), a.hourlyPrice(), a.runningAt());
    }
    if (a.spot()) {
      ctx.health.recordSpotRun(a.offer(), Duration.between(a.runningAt(), now), false);
    }
    ctx.lifecycle.stopOthers(job, n, "attempt " + n + " already ended", now);
    boolean ok = st.phase() == ResourceStatus.Phase.SUCCEEDED;
    ctx.lifecycle.endAttempt(job, a, ok ? AttemptOutcome.SUCCEEDED : AttemptOutcome.FAILED, st.detail(), now);
    job.recordExit(st.exitCode(), st.attributes());
    ctx.releaser.release(job, a, a.resource());
    ctx.lifecycle.finish(job, ok ? JobState.SUCCEEDED : JobState.FAILED,
        ok ? "succeeded on " + a.offer().key() : "workload failed with exit code " + st.exitCode() + " on " + a.offer().key()
            + (st.detail().isEmpty() ? "" : ": " + st.detail()));
  }
}
