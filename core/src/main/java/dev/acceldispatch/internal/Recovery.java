package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.JobRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Taking a stored job into this engine (after a restart, or a lease taken over) and letting go of
 * one another engine took. Engine thread only.
 */
final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  private final EngineContext ctx;
  private final AtomicLong sequence;

  Recovery(EngineContext ctx, AtomicLong sequence) {
    this.ctx = ctx;
    this.sequence = sequence;
  }

  /** Takes a stored unfinished job into this engine and carries on from its stored state. */
  void adopt(JobRecord r) {
    Instant now = ctx.now();
    JobRun job = JobRun.fromRecord(ctx, r, sequence.incrementAndGet());
    if (ctx.jobs.putIfAbsent(r.id(), job) != null) {
      return;
    }
    ctx.unfinished.incrementAndGet();
    ctx.lifecycle.armTimers(job);
    for (Attempt a : job.liveAttempts()) {
      ctx.slotTaken(a.offer());
      ctx.ledger.attemptStarted(job.spec().tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), now);
      if (a.runningAt() != null) {
        ctx.ledger.attemptRunning(job.spec().tenant(), a.hourlyPrice(), a.runningAt());
      }
      if (ctx.gateway(a.offer().providerId()) == null) {
        ctx.lifecycle.endAttempt(job, a, AttemptOutcome.LOST, "provider " + a.offer().providerId() + " is not wired any more", now);
        // Nothing here can release it: its slot is not this engine's to hold.
        ctx.slotFreed(a.offer());
      } else if (a.resource() != null) {
        job.resetPollDelay(a.number(), ctx.cfg.pollInitial());
        ctx.poller.schedule(job, a.number(), Duration.ZERO);
      } else {
        // Written ahead but the create's answer was never stored: ask again under the same name,
        // which adopts what exists and creates what does not.
        ctx.launcher.launch(job, a);
      }
    }
    if (job.liveAttempts().isEmpty()) {
      if (job.state() != JobState.QUEUED) {
        ctx.lifecycle.setState(job, JobState.QUEUED, "recovered after a restart; requeued");
      }
      ctx.lifecycle.enqueue(job);
    }
  }

  /** Forgets a job another instance now owns, without touching its resources. */
  void abandon(JobRun job, String why) {
    if (!ctx.jobs.containsKey(job.id())) {
      return;
    }
    log.warn("job {}: {}; this dispatcher stops acting on it", job.id(), why);
    job.cancelTimers();
    ctx.lifecycle.dequeue(job);
    for (Attempt a : job.liveAttempts()) {
      ctx.slotFreed(a.offer());
      if (a.runningAt() != null) {
        ctx.ledger.attemptStoppedRunning(job.spec().tenant(), a.hourlyPrice(), a.runningAt());
      }
      ctx.ledger.attemptEnded(job.spec().tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), dev.acceldispatch.Money.ZERO, ctx.now());
    }
    ctx.jobs.remove(job.id());
    ctx.unfinished.decrementAndGet();
    job.abandon();
  }
}
