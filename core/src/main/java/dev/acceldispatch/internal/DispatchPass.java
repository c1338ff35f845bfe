package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.PlacementCandidate;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The dispatch pass: priorities from highest, and within a priority the tenant furthest below its
 * fair share goes next; each tenant's jobs in order, skipping those that cannot be placed now. A
 * placed job gets one attempt, or one per hedge in distinct zones, within its tenant's quotas.
 * Engine thread only.
 */
final class DispatchPass {
  private static final int SCAN_PER_TENANT = 64;
  private static final Duration IDLE_RECHECK = Duration.ofMinutes(5);

  private enum PlaceResult { PLACED, WAIT, TENANT_BLOCKED, ENDED }

  private final EngineContext ctx;
  private boolean scheduled;
  private Instant wakeUpAt;
  private TaskScheduler.Cancellable wakeUp;

  DispatchPass(EngineContext ctx) {
    this.ctx = ctx;
  }

  /** Runs a pass soon (once, however often it is asked before it runs). */
  void request() {
    if (!scheduled) {
      scheduled = true;
      ctx.post(this::run);
    }
  }

  private void run() {
    scheduled = false;
    if (ctx.closed.get()) {
      return;
    }
    Instant now = ctx.now();
    // A job that had to wait is not evaluated again in this pass: time stands still in a pass, and
    // what happens in it (placements, new blocks, opened breakers) takes offers away. The one
    // thing that gives one back, an attempt ending inline (which frees a slot of a finite offer),
    // also requests another pass, which looks at every job again. So after each placement the
    // rescan from the head of the queue skips those jobs (in a long stockout, dozens of them).
    Set<JobRun> waiting = new HashSet<>();
    for (int priority : ctx.queue.priorities()) {
      Set<String> done = new HashSet<>();
      while (true) {
        String tenant = null;
        double best = Double.MAX_VALUE;
        for (String t : ctx.queue.tenants(priority)) {
          if (done.contains(t)) {
            continue;
          }
          double key = ctx.ledger.fairShareKey(t, now);
          if (tenant == null || key < best || (key == best && t.compareTo(tenant) < 0)) {
            tenant = t;
            best = key;
          }
        }
        if (tenant == null) {
          break;
        }
        if (!placeOneOf(priority, tenant, waiting, now)) {
          done.add(tenant);
        }
      }
    }
    scheduleWakeUp(now);
  }

  /** Places the first placeable job of the tenant at the priority; false when none could be. */
  private boolean placeOneOf(int priority, String tenant, Set<JobRun> waiting, Instant now) {
    for (JobRun job : ctx.queue.head(priority, tenant, SCAN_PER_TENANT)) {
      if (waiting.contains(job) || (job.memo().waitUntil() != null && now.isBefore(job.memo().waitUntil()))) {
        continue;
      }
      PlaceResult r = tryPlace(job, now);
      if (r == PlaceResult.WAIT) {
        waiting.add(job);
      }
      if (r == PlaceResult.PLACED) {
        return true;
      }
      if (r == PlaceResult.TENANT_BLOCKED) {
        return false;
      }
    }
    return false;
  }

  private void scheduleWakeUp(Instant now) {
    if (ctx.queue.isEmpty()) {
      return;
    }
    // Wake up when the first block ends; and in any case look again a while later, because some
    // obstacles (an open circuit breaker, a tenant's spend) end without an event.
    Instant at = ctx.health.nextUnblock(now).map(t -> t.plusMillis(1)).orElse(now.plus(IDLE_RECHECK));
    if (at.isAfter(now.plus(IDLE_RECHECK))) {
      at = now.plus(IDLE_RECHECK);
    }
    if (wakeUpAt != null && !wakeUpAt.isAfter(at) && wakeUpAt.isAfter(now)) {
      return;
    }
    if (wakeUp != null) {
      wakeUp.cancel();
    }
    wakeUpAt = at;
    wakeUp = ctx.schedule(() -> {
      wakeUpAt = null;
      request();
    }, Duration.between(now, at));
  }

  private PlaceResult tryPlace(JobRun job, Instant now) {
    if (!job.mayStartElsewhere()) {
      // A failed start's machine may still exist; the Releaser asks for a pass once it is gone.
      job.memo().waitFor(null, () -> "waiting for the release of a failed start to succeed, so that it never runs twice");
      return PlaceResult.WAIT;
    }
    Placement.Evaluation ev = ctx.placement.evaluate(job.spec(), job.memo().staticFit(ctx.placement, job.spec(), job.preemptions()), job.closedCost(), ctx.liveByOffer, now);
    if (ev.neverFeasible()) {
      ctx.lifecycle.dequeue(job);
      ctx.lifecycle.finish(job, JobState.FAILED, "no offer can run it any more: " + String.join("; ", ev.excludedLines()));
      return PlaceResult.ENDED;
    }
    if (ev.available.isEmpty()) {
      job.memo().waitFor(ev.nothingBefore(), ev.unavailable.isEmpty() ? () -> "" : ev.unavailable.get(0).why());
      return PlaceResult.WAIT;
    }
    List<PlacementCandidate> chosen = choose(job, ctx.placement.rank(job.spec(), ev.available, false), now);
    if (chosen.isEmpty()) {
      return PlaceResult.TENANT_BLOCKED;
    }
    ctx.lifecycle.dequeue(job);
    List<Attempt> started = new ArrayList<>();
    for (PlacementCandidate c : chosen) {
      started.add(job.startAttempt(c.offer(), c.spot(), now));
      ctx.slotTaken(c.offer());
    }
    ctx.lifecycle.setState(job, JobState.PROVISIONING, "provisioning " + started.get(0).offer().key()
        + (started.size() > 1 ? " and " + (started.size() - 1) + " hedges" : ""));
    for (Attempt a : started) {
      ctx.emit(new DispatchEvent.AttemptStarted(now, job.id(), a.number(), a.offer(), a.spot(), a.resourceName()));
      ctx.launcher.launch(job, a);
    }
    return PlaceResult.PLACED;
  }

  /**
   * The best candidate and, for a hedged job, the next ones in distinct zones, as far as the
   * tenant's quotas allow; each counted in the ledger at once so the next is checked against them
   * too. Empty (with the job's wait reason set) when the quotas allow none.
   */
  private List<PlacementCandidate> choose(JobRun job, List<Placement.Ranked> ranked, Instant now) {
    String tenant = job.spec().tenant();
    Money liveSpend = ctx.ledger.liveSpend(tenant, now);
    List<PlacementCandidate> chosen = new ArrayList<>();
    Set<String> zones = new HashSet<>();
    String blocker = null;
    for (Placement.Ranked r : ranked) {
      PlacementCandidate c = r.candidate();
      if (!zones.add(c.offer().providerId() + "/" + c.offer().zone())) {
        continue;
      }
      int devices = c.offer().shape().acceleratorCount();
      String why = ctx.ledger.quotaBlocker(tenant, devices, c.hourlyPrice(), liveSpend, now);
      if (why != null) {
        blocker = why;
        if (chosen.isEmpty()) {
          continue;
        }
        break;
      }
      chosen.add(c);
      ctx.ledger.attemptStarted(tenant, devices, c.hourlyPrice(), now);
      if (chosen.size() >= job.spec().hedge()) {
        break;
      }
    }
    if (chosen.isEmpty()) {
      String why = blocker == null ? "" : blocker;
      job.memo().waitFor(job.memo().waitUntil(), () -> why);
    }
    return chosen;
  }
}
