package dev.acceldispatch.internal;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Offer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the engine has learnt about offers: which are blocked and until when (capacity, quota,
 * preemption penalty, broken credentials; a capacity block backs off while a zone stays out of
 * stock), which are in a slow start after a stockout (one create at a time, more as the cloud
 * accepts them), recent failures (which push an offer's expected time to start up), observed spot
 * preemption rates per zone and observed provisioning latency per provider. Engine-thread only.
 */
final class OfferHealth {
  /**
   * What a block covers: null fields match anything; with {@code andLarger}, the shape and every
   * larger shape of its type (a stockout of one device in a zone is one of eight too).
   */
  record Block(String providerId, String region, String zone, AcceleratorShape shape, boolean andLarger, Boolean spotOnly,
      Instant until, String reason) {
    Block(String providerId, String region, String zone, AcceleratorShape shape, Boolean spotOnly, Instant until, String reason) {
      this(providerId, region, zone, shape, false, spotOnly, until, reason);
    }

    boolean covers(Offer o, boolean spot) {
      return (providerId == null || providerId.equals(o.providerId()))
          && (region == null || region.equals(o.region()))
          && (zone == null || zone.equals(o.zone()))
          && (shape == null || shape.equals(o.shape()) || (andLarger && coversLarger(o.shape())))
          && (spotOnly == null || !spotOnly || spot);
    }

    private boolean coversLarger(AcceleratorShape other) {
      return shape.type().equals(other.type()) && other.count() >= shape.count();
    }

    /** What it covers, without when or why: a newer block of the same scope replaces an older one. */
    Scope scope() {
      return new Scope(providerId, region, zone, shape, andLarger, spotOnly);
    }

    /**
     * Blocks are filed by the provider's zone and the exact shape they name, or under the whole
     * zone (shape null) when they name none or also cover larger shapes; one naming no zone (or no
     * provider) is wide and checked for every offer.
     */
    FileKey fileKey() {
      if (zone == null || providerId == null) {
        return WIDE;
      }
      return new FileKey(providerId, zone, andLarger ? null : shape);
    }
  }

  /** The length and end of a scope's last capacity block. */
  private record Streak(Duration length, Instant until) {}

  /** A block's coverage, as a map key. */
  record Scope(String providerId, String region, String zone, AcceleratorShape shape, boolean andLarger, Boolean spotOnly) {}

  /** Where a block is filed: a zone of a provider and a shape or none; {@link #WIDE} for the rest. */
  record FileKey(String providerId, String zone, AcceleratorShape shape) {}

  private static final FileKey WIDE = new FileKey(null, null, null);
  private static final Duration FAILURE_WINDOW = Duration.ofMinutes(30);
  private static final Duration PENALTY_PER_FAILURE = Duration.ofMinutes(5);

  /**
   * One block per scope (the latest ending wins), filed under its zone and shape: placement asks
   * for the block of every candidate offer of every queued job, so a lookup reads only the blocks
   * of the offer's zone and shape (on-demand and spot), of its whole zone (a zone quota), and the
   * wide ones (quota and credential blocks of a region or provider): a handful, not every block of
   * every zone (thousands in a long stockout).
   */
  private final Map<FileKey, Map<Scope, Block>> blocks = new LinkedHashMap<>();
  /** The last capacity block of each (provider, zone, shape) that keeps failing, for the backoff. */
  private final Map<Scope, Streak> capacityStreaks = new HashMap<>();
  /** Creates in flight per offer key. */
  private final Map<String, Integer> creating = new HashMap<>();
  /**
   * Offers (by key) in a slow start, with how many creates may be in flight on each: 1 after a
   * capacity failure, doubled by each create the cloud accepts, and the limit gone once it reaches
   * {@link #SLOW_START_DONE}. An offer not here has no limit if it is {@link #proven}, else 1.
   */
  private final Map<String, Integer> createAllowance = new HashMap<>();
  /**
   * Offers whose slow start ended: the cloud accepted enough creates in a row. Every other offer
   * starts slow, as if it had just been stocked out: the engine cannot know a stockout before the
   * first create fails, and a queue whose first pass sent a create per job to every offer would
   * fail over in lockstep through a fresh stockout (a failed create per job per offer).
   */
  private final java.util.Set<String> proven = new java.util.HashSet<>();
  private static final int SLOW_START_DONE = 64;
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
    blocks.computeIfAbsent(b.fileKey(), k -> new LinkedHashMap<>())
        .merge(b.scope(), b, (old, neu) -> neu.until().isAfter(old.until()) ? neu : old);
  }

  /**
   * Blocks the offer's (provider, zone, shape) after a capacity failure, with {@code andLarger}
   * also every larger shape of its type there: for {@code first} after a fresh stockout, twice the
   * last block while tries there keep failing (a failure within one block length of the last
   * block's end), at most {@code max}. A failure while the block is still on (a create sent before
   * it began) leaves it as it is.
   *
   * @return when the block ends
   */
  synchronized Instant blockForCapacity(Offer o, boolean andLarger, Instant now, Duration first, Duration max, String reason) {
    Scope scope = new Scope(o.providerId(), null, o.zone(), o.shape(), andLarger, null);
    Streak last = capacityStreaks.get(scope);
    if (last != null && now.isBefore(last.until())) {
      createAllowance.put(keys.of(o), 1);
      return last.until();
    }
    Duration length = first;
    if (last != null && !now.isAfter(last.until().plus(last.length()))) {
      Duration doubled = last.length().multipliedBy(2);
      length = doubled.compareTo(max) > 0 ? max : doubled;
    }
    Instant until = now.plus(length);
    capacityStreaks.put(scope, new Streak(length, until));
    createAllowance.put(keys.of(o), 1);
    block(new Block(o.providerId(), null, o.zone(), o.shape(), andLarger, null, until, reason));
    return until;
  }

  /**
   * A resource of this offer started: its zone has capacity for its shape (and any smaller one of
   * its type) again, so their backoff starts over.
   */
  synchronized void recordStarted(Offer o) {
    AcceleratorShape started = o.shape();
    capacityStreaks.keySet().removeIf(s -> s.providerId().equals(o.providerId()) && o.zone().equals(s.zone())
        && (s.shape().equals(started)
            || (s.andLarger() && s.shape().type().equals(started.type()) && s.shape().count() <= started.count())));
  }

  /** A create on this offer was sent. */
  synchronized void createStarted(Offer o) {
    creating.merge(keys.of(o), 1, Integer::sum);
  }

  /**
   * A create on this offer returned; {@code accepted}: the cloud took it, so it had capacity.
   *
   * @return whether the offer was limited by its slow start (jobs may have waited for this)
   */
  synchronized boolean createEnded(Offer o, boolean accepted) {
    String key = keys.of(o);
    creating.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    Integer allowed = allowance(key);
    if (allowed != null && accepted) {
      if (allowed * 2 >= SLOW_START_DONE) {
        createAllowance.remove(key);
        proven.add(key);
      } else {
        createAllowance.put(key, allowed * 2);
      }
    }
    return allowed != null;
  }

  /**
   * Whether this offer already has as many creates in flight as it may while it recovers from a
   * stockout. When a block ends, every queued job that wants the offer would otherwise send a
   * create in the same pass and, if it is still out of stock, all fail at once and fail over
   * together to the next offer, and so on down the list: a failed create per job per offer
   * instead of one per offer. So after a capacity failure an offer takes one create at a time,
   * then twice as many for each the cloud accepts (a slow start, as TCP does after a loss).
   */
  synchronized boolean createsSaturated(Offer o) {
    String key = keys.of(o);
    Integer allowed = allowance(key);
    return allowed != null && creating.getOrDefault(key, 0) >= allowed;
  }

  /** How many creates may be in flight on the offer; null for no limit. */
  private Integer allowance(String key) {
    Integer allowed = createAllowance.get(key);
    return allowed != null || proven.contains(key) ? allowed : Integer.valueOf(1);
  }

  /** The active block covering this offer and tier, if any (the one ending last). */
  synchronized Optional<Block> blockOf(Offer o, boolean spot, Instant now) {
    prune(now);
    Block found = latestCovering(blocks.get(new FileKey(o.providerId(), o.zone(), o.shape())), o, spot, now, null);
    found = latestCovering(blocks.get(new FileKey(o.providerId(), o.zone(), null)), o, spot, now, found);
    found = latestCovering(blocks.get(WIDE), o, spot, now, found);
    return Optional.ofNullable(found);
  }

  private static Block latestCovering(Map<Scope, Block> filed, Offer o, boolean spot, Instant now, Block found) {
    if (filed == null) {
      return found;
    }
    for (Block b : filed.values()) {
      if (b.until.isAfter(now) && b.covers(o, spot) && (found == null || b.until.isAfter(found.until))) {
        found = b;
      }
    }
    return found;
  }

  /** Drops ended blocks, at most once per virtual minute rather than on every lookup. */
  private void prune(Instant now) {
    if (now.isBefore(nextPrune)) {
      return;
    }
    for (Iterator<Map<Scope, Block>> zones = blocks.values().iterator(); zones.hasNext(); ) {
      Map<Scope, Block> filed = zones.next();
      filed.values().removeIf(b -> !b.until.isAfter(now));
      if (filed.isEmpty()) {
        zones.remove();
      }
    }
    capacityStreaks.values().removeIf(st -> now.isAfter(st.until().plus(st.length())));
    nextPrune = now.plusSeconds(60);
  }

  /** The earliest time a block ends, to wake queued jobs up then. */
  synchronized Optional<Instant> nextUnblock(Instant now) {
    return blocks.values().stream().flatMap(filed -> filed.values().stream())
        .map(Block::until).filter(t -> t.isAfter(now)).min(Instant::compareTo);
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
