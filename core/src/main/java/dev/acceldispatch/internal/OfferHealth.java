package dev.acceldispatch.internal;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Offer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the engine has learnt about offers: which are blocked and until when (capacity, quota,
 * preemption penalty, broken credentials), recent failures (which push an offer's expected time to
 * start up), observed spot preemption rates per zone and observed provisioning latency per
 * provider. Engine-thread only.
 */
final class OfferHealth {
  /** What a block covers: null fields match anything. */
  record Block(String providerId, String region, String zone, AcceleratorShape shape, Boolean spotOnly, Instant until, String reason) {
    boolean covers(Offer o, boolean spot) {
      return (providerId == null || providerId.equals(o.providerId()))
          && (region == null || region.equals(o.region()))
          && (zone == null || zone.equals(o.zone()))
          && (shape == null || shape.equals(o.shape()))
          && (spotOnly == null || !spotOnly || spot);
    }

    /** What it covers, without when or why: a newer block of the same scope replaces an older one. */
    String scope() {
      return providerId + "|" + region + "|" + zone + "|" + shape + "|" + spotOnly;
    }
  }

  private static final Duration FAILURE_WINDOW = Duration.ofMinutes(30);
  private static final Duration PENALTY_PER_FAILURE = Duration.ofMinutes(5);

  /** One block per scope (the latest ending wins), so the list stays as small as the set of scopes. */
  private final Map<String, Block> blocks = new LinkedHashMap<>();
  private Instant nextPrune = Instant.MIN;
  private final OfferKeys keys;
  private final Map<String, Deque<Instant>> failures = new HashMap<>();
  private final Map<String, double[]> preemptionStats = new HashMap<>();
  private final Map<String, Double> latencySeconds = new HashMap<>();
  private final double priorPreemptionsPerHour;

  OfferHealth(double priorPreemptionsPerHour, OfferKeys keys) {
    this.priorPreemptionsPerHour = priorPreemptionsPerHour;
    this.keys = keys;
  }

  synchronized void block(Block b) {
    blocks.merge(b.scope(), b, (old, neu) -> neu.until().isAfter(old.until()) ? neu : old);
  }

  /** The active block covering this offer and tier, if any. */
  synchronized Optional<Block> blockOf(Offer o, boolean spot, Instant now) {
    prune(now);
    Block found = null;
    for (Block b : blocks.values()) {
      if (b.until.isAfter(now) && b.covers(o, spot) && (found == null || b.until.isAfter(found.until))) {
        found = b;
      }
    }
    return Optional.ofNullable(found);
  }

  /** Drops ended blocks, at most once per virtual minute rather than on every lookup. */
  private void prune(Instant now) {
    if (now.isBefore(nextPrune)) {
      return;
    }
    blocks.values().removeIf(b -> !b.until.isAfter(now));
    nextPrune = now.plusSeconds(60);
  }

  /** The earliest time a block ends, to wake queued jobs up then. */
  synchronized Optional<Instant> nextUnblock(Instant now) {
    return blocks.values().stream().map(Block::until).filter(t -> t.isAfter(now)).min(Instant::compareTo);
  }

  synchronized void recordFailure(Offer o, Instant now) {
    Deque<Instant> q = failures.computeIfAbsent(keys.of(o), k -> new ArrayDeque<>());
    q.addLast(now);
    trim(q, now);
  }

  synchronized int recentFailures(Offer o, Instant now) {
    Deque<Instant> q = failures.get(keys.of(o));
    if (q == null) {
      return 0;
    }
    trim(q, now);
    return q.size();
  }

  private static void trim(Deque<Instant> q, Instant now) {
    while (!q.isEmpty() && q.peekFirst().isBefore(now.minus(FAILURE_WINDOW))) {
      q.pollFirst();
    }
  }

  /** Spot hours observed in a zone, and how many of them ended in a preemption. */
  synchronized void recordSpotRun(Offer o, Duration held, boolean preempted) {
    double[] s = preemptionStats.computeIfAbsent(o.providerId() + "/" + o.zone(), k -> new double[2]);
    s[0] += held.toMillis() / 3_600_000.0;
    if (preempted) {
      s[1] += 1;
    }
  }

  /**
   * Preemptions per hour in the offer's zone: observed preemptions over observed spot hours, with
   * the prior counted as ten hours of experience so that a few observations do not swing it.
   */
  synchronized double preemptionRate(Offer o) {
    double[] s = preemptionStats.get(o.providerId() + "/" + o.zone());
    double priorHours = 10;
    if (s == null) {
      return priorPreemptionsPerHour;
    }
    return (s[1] + priorPreemptionsPerHour * priorHours) / (s[0] + priorHours);
  }

  /** Observed time from provision request to running, as a moving average per provider. */
  synchronized void recordLatency(String providerId, Duration d) {
    double secs = d.toMillis() / 1000.0;
    latencySeconds.merge(providerId, secs, (old, now) -> old * 0.8 + now * 0.2);
  }

  synchronized Duration expectedTimeToStart(Offer o, Instant now) {
    double base = latencySeconds.getOrDefault(o.providerId(), 60.0);
    long failuresHere = recentFailures(o, now);
    return Duration.ofMillis(Math.round(base * 1000)).plus(PENALTY_PER_FAILURE.multipliedBy(failuresHere));
  }
}
