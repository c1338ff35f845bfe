package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.StaleJobException;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's state changes and its end: every transition is written to the store before it is acted
 * on or reported; attempts end here (ledger, slots, event), lost attempts are requeued within the
 * preemption budget, and a finished job completes its result once nothing of it is in flight.
 * Engine thread only.
 */
final class JobLifecycle {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  private final EngineContext ctx;

  JobLifecycle(EngineContext ctx) {
    this.ctx = ctx;
  }

  /** Arms the job's timeout and start deadline, counted from its submission. */
  void armTimers(JobRun job) {
    Instant now = ctx.now();
    job.spec().timeout().ifPresent(t -> job.addTimer(ctx.schedule(
        () -> finish(job, JobState.FAILED, "timed out: not finished within " + t + " of submission" + lastRefusal(job)),
        Duration.between(now, job.submittedAt().plus(t)))));
    job.spec().startDeadline().ifPresent(d -> job.addTimer(ctx.schedule(() -> {
      if (!job.everRan()) {
        String obstacle = job.memo().waitReason();
        finish(job, JobState.FAILED, "did not start within its startDeadline of " + d
            + (obstacle.isEmpty() ? "" : "; last obstacle: " + obstacle) + lastRefusal(job));
      }
    }, Duration.between(now, job.submittedAt().plus(d)))));
  }

  /** The provider's last outright refusal of the job, for its final message; what the user must fix. */
  private static String lastRefusal(JobRun job) {
    String r = job.memo().lastRefusal();
    return r == null ? "" : "; last refused by a provider: " + r;
  }

  void enqueue(JobRun job) {
    job.memo().clearWaitUntil();
    if (!job.isQueued()) {
      ctx.queue.add(job);
      ctx.ledger.queuedChanged(job.spec().tenant(), 1);
    }
  }

  void dequeue(JobRun job) {
    if (job.isQueued()) {
      ctx.queue.remove(job);
      ctx.ledger.queuedChanged(job.spec().tenant(), -1);
    }
  }

  void setState(JobRun job, JobState to, String reason) {
    JobState from = job.state();
    job.moveTo(to, reason);
    persist(job);
    if (from != to) {
      ctx.emit(new DispatchEvent.JobStateChanged(ctx.now(), job.id(), from, to, reason));
    }
  }

  /**
   * Writes the job to the store before anything acts on or reports the change. When another
   * dispatcher has written it since (it took the job over), this one must not act: the task is
   * aborted and the job dropped.
   */
  void persist(JobRun job) {
    if (job.isAbandoned()) {
      throw new LeaseLostException(job);
    }
    job.publish();
    try {
      JobRecord stored = ctx.ownership.store().update(job.toRecord(ctx.now()));
      job.storedAs(stored.version());
    } catch (StaleJobException e) {
      ctx.recovery.abandon(job, "it was updated by another dispatcher");
      throw new LeaseLostException(job);
    }
  }

  /** Ends a live attempt: its cost ({@link AttemptCost}), the tenant's ledger, its slot, the event. */
  Attempt endAttempt(JobRun job, Attempt a, AttemptOutcome outcome, String detail, Instant now) {
    // Its slot stays taken until the release succeeded (Releaser).
    Attempt ended = job.endAttempt(a.number(), outcome, detail, now);
    if (a.runningAt() != null) {
      ctx.ledger.attemptStoppedRunning(job.spec().tenant(), a.hourlyPrice(), a.runningAt());
    }
    ctx.ledger.attemptEnded(job.spec().tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), ended.cost(), now);
    ctx.emit(new DispatchEvent.AttemptEnded(now, job.id(), a.number(), a.offer(), a.spot(), outcome, ended.cost(), detail));
    return ended;
  }

  /** Ends a live attempt as cancelled and releases its resource (or lets the in-flight create do it). */
  void stopAttempt(JobRun job, Attempt a, String why, Instant now) {
    endAttempt(job, a, AttemptOutcome.CANCELLED, why, now);
    if (a.resource() != null) {
      ctx.releaser.release(job, a, a.resource());
    }
    // With no resource yet, the create is in flight: the launcher releases whatever it returns.
  }

  /** Ends every other live attempt of the job (losing hedges), releasing what they made. */
  void stopOthers(JobRun job, int keep, String why, Instant now) {
    for (Attempt other : job.liveAttempts()) {
      if (other.number() != keep) {
        stopAttempt(job, other, why, now);
      }
    }
  }

  /** After an attempt ended without ending the job: wait for the others, or queue the job again. */
  void afterAttemptEnded(JobRun job, String reason) {
    if (job.state().isTerminal()) {
      completeIfSettled(job);
      return;
    }
    if (!job.liveAttempts().isEmpty()) {
      persist(job);
      return;
    }
    setState(job, JobState.QUEUED, reason);
    enqueue(job);
    ctx.pass.request();
  }

  /** The cloud took a machine back, or it vanished: penalise the zone, release, requeue within budget. */
  void onLost(JobRun job, Attempt a, ResourceStatus st, Instant now) {
    boolean preempted = st.phase() == ResourceStatus.Phase.PREEMPTED;
    Offer o = a.offer();
    Instant until = now.plus(ctx.cfg.preemptionPenalty());
    if (a.spot()) {
      Instant ranFrom = a.runningAt() != null ? a.runningAt() : a.startedAt();
      ctx.health.recordSpotRun(o, Duration.between(ranFrom, now), true);
      ctx.health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), o.shape(), true, until,
          (preempted ? "spot preemption" : "spot resource vanished") + " of attempt " + a.number()));
    } else {
      ctx.health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), o.shape(), null, until,
          "resource lost in attempt " + a.number()));
    }
    ctx.health.recordFailure(o, now);
    int losses = job.countLoss();
    String detail = (preempted ? "preempted" : "vanished") + (st.detail().isEmpty() ? "" : ": " + st.detail());
    EngineContext.withMdc(job, a, () -> log.warn("job {} attempt {} on {} {}", job.id(), a.number(), o.key(), detail));
    endAttempt(job, a, preempted ? AttemptOutcome.PREEMPTED : AttemptOutcome.LOST, detail, now);
    ctx.releaser.release(job, a, a.resource());
    if (!job.liveAttempts().isEmpty()) {
      persist(job);
      return;
    }
    if (losses > job.spec().preemptionBudget()) {
      finish(job, JobState.FAILED, "lost " + losses + " attempts to preemption or disappearance, over its preemptionBudget of "
          + job.spec().preemptionBudget());
      return;
    }
    afterAttemptEnded(job, "attempt " + a.number() + " " + detail + "; requeued (" + losses + " of "
        + job.spec().preemptionBudget() + " allowed)");
  }

  /** Ends the job in a terminal state: stops live attempts, releases, completes when released. */
  void finish(JobRun job, JobState state, String message) {
    if (job.state().isTerminal()) {
      return;
    }
    Instant now = ctx.now();
    job.cancelTimers();
    dequeue(job);
    for (Attempt a : job.liveAttempts()) {
      stopAttempt(job, a, message, now);
    }
    setState(job, state, message);
    ctx.unfinished.decrementAndGet();
    ctx.ownership.ended(job.id());
    EngineContext.withMdc(job, null, () -> log.info("job {} '{}' {}: {}", job.id(), job.spec().name(), state, message));
    completeIfSettled(job);
    ctx.pass.request();
  }

  /** Completes the job's result, and forgets it, once it ended and nothing of it is in flight. */
  void completeIfSettled(JobRun job) {
    if (job.state().isTerminal() && job.isSettled() && !job.result().isDone()) {
      ctx.jobs.remove(job.id());
      job.completeIfSettled();
    }
  }

  /** Aborts an engine task that was about to act on a job this instance no longer owns. */
  static final class LeaseLostException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LeaseLostException(JobRun job) {
      super("job " + job.id() + " is owned by another dispatcher", null, false, false);
    }
  }
}
