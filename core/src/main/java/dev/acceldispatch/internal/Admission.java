package dev.acceldispatch.internal;

import dev.acceldispatch.DispatcherClosedException;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.QueueFullException;
import dev.acceldispatch.event.DispatchEvent;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admits a job: refuses one no wired offer could ever run, applies backpressure, stores it before
 * {@code submit} returns, and queues it on the engine thread.
 */
final class Admission {
  private final EngineContext ctx;
  private final AtomicLong sequence;

  Admission(EngineContext ctx, AtomicLong sequence) {
    this.ctx = ctx;
    this.sequence = sequence;
  }

  /** On the host's thread. */
  JobRun submit(JobSpec spec) {
    if (ctx.closed.get()) {
      throw new DispatcherClosedException();
    }
    Placement.Evaluation ev = ctx.placement.evaluate(spec, 0, Map.of(), Money.ZERO, Map.of(), ctx.now());
    if (ev.neverFeasible()) {
      throw new NoFeasibleOfferException(spec.name(), ev.excludedLines());
    }
    if (ctx.unfinished.incrementAndGet() > ctx.cfg.maxQueuedJobs()) {
      ctx.unfinished.decrementAndGet();
      throw new QueueFullException(ctx.cfg.maxQueuedJobs());
    }
    Instant now = ctx.now();
    while (true) {
      String id = ResourceNames.newJobId();
      JobRun job = new JobRun(ctx, id, spec, JobState.QUEUED, now, sequence.incrementAndGet());
      job.moveTo(JobState.QUEUED, "queued");
      // Known to this engine before it is in the store, so that recovery, which adopts what the
      // store holds and this engine does not know, can never take a job being submitted.
      if (ctx.jobs.putIfAbsent(id, job) != null) {
        continue;
      }
      try {
        ctx.ownership.insert(job.toRecord(now), now);
        job.markStored();
      } catch (IllegalStateException duplicateId) {
        // a random id collided with a stored job: draw another
        ctx.jobs.remove(id, job);
        continue;
      } catch (RuntimeException e) {
        ctx.jobs.remove(id, job);
        ctx.unfinished.decrementAndGet();
        throw e;
      }
      // Waiting for placement from now on, not from when the engine thread admits it: a host
      // asking usage() right after submit must see it. admit() hands the count to the queue.
      ctx.ledger.queuedChanged(spec.tenant(), 1);
      ctx.post(() -> admit(job));
      return job;
    }
  }

  private void admit(JobRun job) {
    ctx.ledger.queuedChanged(job.spec().tenant(), -1);
    if (job.state().isTerminal()) {
      return;
    }
    ctx.emit(new DispatchEvent.JobSubmitted(ctx.now(), job.id(), job.spec().name(), job.spec().tenant()));
    ctx.lifecycle.armTimers(job);
    ctx.lifecycle.enqueue(job);
    ctx.pass.request();
  }
}
