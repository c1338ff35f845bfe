package dev.acceldispatch.bench.replay;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Offer;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.event.DispatchEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Policy (o), the clairvoyant reference: the same engine, told in advance by the simulated clouds
 * which creates would fail and which spot machines would be preempted. A job is held outside the
 * engine until some (offer, tier) would be filled at once and, for spot, the zone's next spot
 * machine would outlive boot plus the job's run time; it is then submitted pinned to the cheapest
 * such (offer, tier) (one shape, one zone, spot ONLY or NEVER). So it never sends a create that
 * fails for capacity and is never preempted; it still waits for capacity, boots machines, is
 * polled and released by the engine, and pays what the clouds bill.
 *
 * <p>It is a reference, not an optimum: it takes the cheapest option that starts now rather than
 * waiting for a cheaper one, and it knows only the next spot life per zone.
 */
final class ClairvoyantDriver extends Driver {
  /** A create must not meet a stockout this soon after the decision (covers a transient retry). */
  static final Duration CLEAR_AHEAD = Duration.ofMinutes(15);

  private record Hold(int index, TraceJob job) {}

  private record Reservation(SimProvider provider, String key, int units, boolean spotZone, String zone) {}

  private final LinkedHashMap<Integer, Hold> held = new LinkedHashMap<>();
  private final Map<String, Reservation> reservations = new HashMap<>();
  private final Map<String, Integer> reserved = new HashMap<>();
  private final Set<String> spotPending = new HashSet<>();
  private final Map<String, SimProvider> byId = new HashMap<>();
  private boolean placeScheduled;
  private Instant wakeAt;

  ClairvoyantDriver(Context ctx) {
    super(ctx);
    for (SimProvider p : ctx.clouds().providers) {
      byId.put(p.id(), p);
      p.onAllocated(this::allocated);
    }
  }

  @Override
  void submit(int index, TraceJob job) {
    handles.add(new ArrayList<>());
    held.put(index, new Hold(index, job));
    requestPlace();
  }

  @Override
  boolean finished(int index) {
    List<JobHandle> hs = handles.get(index);
    return !hs.isEmpty() && hs.get(hs.size() - 1).state().isTerminal();
  }

  @Override
  int held() {
    return held.size();
  }

  @Override
  void onEvent(DispatchEvent e) {
    if (e instanceof DispatchEvent.ResourceReleased) {
      requestPlace();
    }
  }

  private void allocated(String jobId) {
    Reservation r = reservations.remove(jobId);
    if (r != null) {
      reserved.merge(r.provider().id() + "|" + r.key(), -r.units(), Integer::sum);
      if (r.spotZone()) {
        spotPending.remove(r.provider().id() + "|" + r.zone());
      }
      requestPlace();
    }
  }

  private void requestPlace() {
    if (!placeScheduled) {
      placeScheduled = true;
      ctx.scheduler().schedule(this::place, Duration.ZERO);
    }
  }

  /** Places every held job that something would take now, in arrival order. */
  private void place() {
    placeScheduled = false;
    Instant now = ctx.scheduler().now();
    Set<Integer> noRoom = new HashSet<>();
    for (Iterator<Hold> it = held.values().iterator(); it.hasNext(); ) {
      Hold h = it.next();
      // No room for one job means no room for any job of the same shapes (the on-demand tier
      // does not depend on the job's run time): skip them for the rest of this pass.
      if (noRoom.contains(h.job().gpus())) {
        continue;
      }
      Choice c = choose(h.job(), now);
      if (c == null) {
        noRoom.add(h.job().gpus());
        continue;
      }
      it.remove();
      JobSpec.Builder b = ctx.mapping().spec(h.job())
          .accelerators(c.offer().shape())
          .providers(c.offer().providerId())
          .zones(c.offer().zone());
      if (c.spot()) {
        b.spot(SpotPolicy.ONLY).onDemandAfterPreemptions(-1);
      } else {
        b.spot(SpotPolicy.NEVER).onDemandAfterPreemptions(-1);
      }
      JobHandle handle = dispatcher.submit(b.build());
      handles.get(h.index()).add(handle);
      SimProvider p = byId.get(c.offer().providerId());
      String key = c.offer().zone() + "|" + c.offer().shape().type().id();
      reservations.put(handle.id(), new Reservation(p, key, c.offer().shape().count(), c.spot(), c.offer().zone()));
      reserved.merge(p.id() + "|" + key, c.offer().shape().count(), Integer::sum);
      if (c.spot()) {
        spotPending.add(p.id() + "|" + c.offer().zone());
      }
    }
    scheduleWake(now);
  }

  /** Room comes back when a stockout ends, too: look again then if jobs are waiting. */
  private void scheduleWake(Instant now) {
    if (held.isEmpty()) {
      return;
    }
    Instant next = null;
    for (SimProvider p : ctx.clouds().providers) {
      Instant e = p.nextStockoutEnd(now);
      if (e != null && (next == null || e.isBefore(next))) {
        next = e;
      }
    }
    if (next != null && (wakeAt == null || !wakeAt.isAfter(now) || next.isBefore(wakeAt))) {
      wakeAt = next;
      ctx.scheduler().schedule(this::requestPlace, Duration.between(now, next));
    }
  }

  private record Choice(Offer offer, boolean spot, double cost) {}

  private Choice choose(TraceJob job, Instant now) {
    var ref = JobMapping.reference(job);
    long refMillis = ref.runTime().toMillis();
    double refTflops = ref.shape().totalTflops();
    boolean spotAllowed = ctx.mapping().spot(job);
    Choice best = null;
    for (AcceleratorShape s : JobMapping.shapes(job.gpus())) {
      for (Offer o : ctx.clouds().offers) {
        if (!o.shape().equals(s)) {
          continue;
        }
        SimProvider p = byId.get(o.providerId());
        String key = o.zone() + "|" + s.type().id();
        if (!p.wouldFill(o.zone(), s.type().id(), s.count(), now, now.plus(CLEAR_AHEAD), reserved.getOrDefault(p.id() + "|" + key, 0))) {
          continue;
        }
        Duration run = SimProvider.runTime(refMillis, refTflops, o);
        double hours = run.toMillis() / 3_600_000.0;
        if (spotAllowed && o.spotHourly() != null && !spotPending.contains(p.id() + "|" + o.zone())
            && p.nextSpotLife(o.zone()).compareTo(p.provisioningTime().plus(run).plusSeconds(1)) > 0) {
          double cost = o.spotHourly().toDouble() * hours;
          if (best == null || cost < best.cost()) {
            best = new Choice(o, true, cost);
          }
        }
        double cost = o.onDemandHourly().toDouble() * hours;
        if (best == null || cost < best.cost()) {
          best = new Choice(o, false, cost);
        }
      }
    }
    return best;
  }
}
