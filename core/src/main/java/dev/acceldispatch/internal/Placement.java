package dev.acceldispatch.internal;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.spi.PlacementCandidate;
import dev.acceldispatch.spi.PlacementPolicy;
import dev.acceldispatch.spi.SecretDelivery;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which offers can run a job, what each would cost and how soon it would start, in the order the
 * placement policy prefers. Pure computation over the offers, the job and {@link OfferHealth}.
 */
final class Placement {
  /** A scored candidate. */
  record Ranked(PlacementCandidate candidate, double score, String reason) {}

  /**
   * An offer (and tier) that could run the job but not now, and why; {@code until} is when it can
   * be available again at the earliest (the end of its block), or null when that could be any
   * moment (a breaker that closes, a slot that frees, a create that returns).
   */
  record Unavailable(Offer offer, boolean spot, Instant until, java.util.function.Supplier<String> why) {}

  /** What evaluating a job against every offer found. */
  static final class Evaluation {
    final List<PlacementCandidate> available = new ArrayList<>();
    /** Feasible but blocked or full right now, with why (the words built only when asked). */
    final List<Unavailable> unavailable = new ArrayList<>();
    /**
     * Why offers can never run the job, one entry per excluded offer and tier, in words built only
     * when asked ({@link #excludedLines}): a job held to one region is evaluated on every pass
     * against every offer elsewhere, and formatting those reasons dominated a long queue's passes.
     */
    private final List<java.util.function.Supplier<String>> excluded = new ArrayList<>();
    /** The exclusions of the job's {@link StaticFit}, shared with it rather than copied. */
    private List<java.util.function.Supplier<String>> staticExclusions = List.of();

    boolean neverFeasible() {
      return available.isEmpty() && unavailable.isEmpty();
    }

    /**
     * When nothing is available and every obstacle is a block: the earliest block end, before
     * which evaluating the job again cannot find anything (blocks only grow until they end, and
     * the job's own constraints do not change while it waits). Otherwise null.
     */
    Instant nothingBefore() {
      if (!available.isEmpty() || unavailable.isEmpty()) {
        return null;
      }
      Instant first = null;
      for (Unavailable u : unavailable) {
        if (u.until() == null) {
          return null;
        }
        if (first == null || u.until().isBefore(first)) {
          first = u.until();
        }
      }
      return first;
    }

    /** Each distinct reason with how many offers it excluded, in first-seen order. */
    List<String> excludedLines() {
      Map<String, Integer> counts = new LinkedHashMap<>();
      staticExclusions.forEach(reason -> counts.merge(reason.get(), 1, Integer::sum));
      excluded.forEach(reason -> counts.merge(reason.get(), 1, Integer::sum));
      List<String> out = new ArrayList<>();
      counts.forEach((reason, n) -> out.add(n + (n == 1 ? " offer: " : " offers: ") + reason));
      return out;
    }

    void exclude(java.util.function.Supplier<String> reason) {
      excluded.add(reason);
    }
  }

  /** The run time assumed when a job names no reference run time. */
  static final Duration DEFAULT_RUN_TIME = Duration.ofHours(1);

  private final List<Offer> offers;
  private final Map<AcceleratorShape, List<Offer>> byShape = new HashMap<>();
  private final PlacementPolicy policy;
  private final OfferHealth health;
  private final Duration restartOverhead;
  private final java.util.function.Predicate<Offer> unhealthy;
  private final OfferKeys keys;
  /** The secret kinds each provider that declares them ({@link SecretDelivery}) can deliver. */
  private final Map<String, Set<Secret.Kind>> secretKinds;

  /**
   * @param unhealthy offers whose provider region is failing fast right now (an open circuit
   *     breaker): not placed on until it closes
   * @param secretKinds per provider id, the secret kinds it declared it can deliver; a provider
   *     missing here is assumed to deliver every kind
   */
  Placement(List<Offer> offers, OfferKeys keys, PlacementPolicy policy, OfferHealth health, Duration restartOverhead,
      java.util.function.Predicate<Offer> unhealthy, Map<String, Set<Secret.Kind>> secretKinds) {
    this.unhealthy = unhealthy;
    this.secretKinds = Map.copyOf(secretKinds);
    this.keys = keys;
    this.offers = List.copyOf(offers);
    for (Offer o : offers) {
      byShape.computeIfAbsent(o.shape(), s -> new ArrayList<>()).add(o);
    }
    this.policy = policy;
    this.health = health;
    this.restartOverhead = restartOverhead;
  }

  List<Offer> offers() {
    return offers;
  }

  /** The tiers a job may use now: spot, on-demand, or both (spot first). */
  static List<Boolean> tiers(JobSpec spec, int preemptions) {
    boolean fallback = spec.onDemandAfterPreemptions() >= 0 && preemptions >= spec.onDemandAfterPreemptions();
    return switch (spec.spot()) {
      case NEVER -> List.of(false);
      case ONLY -> fallback ? List.of(false) : List.of(true);
      case PREFER -> fallback ? List.of(false) : List.of(true, false);
    };
  }

  /**
   * The (offer, tier) pairs a job may ever use, given its spec, how often it was preempted (which
   * decides its tiers) and the offers it must not use again, with why the others cannot: what
   * does not change while the job waits. Computed once per job and reused by every dispatch pass
   * until one of those inputs changes (a job held to one region would otherwise sift every offer
   * of every other region on every pass).
   *
   * @param preemptions the job's preemptions when computed
   * @param excludedOffers how many offers the job had excluded when computed
   */
  record StaticFit(List<Offer> offers, List<Boolean> spot, List<java.util.function.Supplier<String>> exclusions,
      int preemptions, int excludedOffers) {
    /** Whether it still describes a job with these counts. */
    boolean isFor(int preemptions, Map<String, String> excluded) {
      return this.preemptions == preemptions && this.excludedOffers == excluded.size();
    }
  }

  /** The {@link StaticFit} of a job. */
  StaticFit staticFit(JobSpec spec, int preemptions, Map<String, String> excludedOffers) {
    List<Offer> fitOffers = new ArrayList<>();
    List<Boolean> fitSpot = new ArrayList<>();
    List<java.util.function.Supplier<String>> exclusions = new ArrayList<>();
    List<Boolean> tiers = tiers(spec, preemptions);
    int otherShapes = offers.size();
    Map<String, String> undeliverable = new HashMap<>();
    for (AcceleratorShape shape : spec.accelerators().shapes()) {
      List<Offer> list = byShape.getOrDefault(shape, List.of());
      otherShapes -= list.size();
      if (!spec.accelerators().accepts(shape)) {
        list.forEach(o -> exclusions.add(() -> "shape " + shape + " has less than the " + spec.accelerators().minTotalMemoryGib() + " GiB minTotalMemoryGib"));
        continue;
      }
      for (Offer o : list) {
        if (!spec.providers().isEmpty() && !spec.providers().contains(o.providerId())) {
          exclusions.add(() -> "provider " + o.providerId() + " not in providers " + spec.providers());
          continue;
        }
        if (!spec.regions().isEmpty() && !spec.regions().contains(o.region())) {
          exclusions.add(() -> "region " + o.region() + " not in regions " + spec.regions());
          continue;
        }
        if (!spec.zones().isEmpty() && !spec.zones().contains(o.zone())) {
          exclusions.add(() -> "zone " + o.zone() + " not in zones " + spec.zones());
          continue;
        }
        String secrets = undeliverable.computeIfAbsent(o.providerId(), id -> undeliverableSecrets(spec, id));
        if (!secrets.isEmpty()) {
          exclusions.add(() -> secrets);
          continue;
        }
        String refusal = excludedOffers.get(keys.of(o));
        if (refusal != null) {
          exclusions.add(() -> "rejected this job's request before: " + refusal);
          continue;
        }
        for (boolean spot : tiers) {
          if (spot && o.spotHourly() == null) {
            if (spec.spot() == SpotPolicy.ONLY) {
              exclusions.add(() -> "no spot tier, and spot is ONLY");
            }
            continue;
          }
          Money hourly = o.hourly(spot);
          if (spec.maxHourlyPrice().isPresent() && hourly.isGreaterThan(spec.maxHourlyPrice().get())) {
            exclusions.add(() -> (spot ? "spot" : "on-demand") + " price " + hourly + "/h above maxHourlyPrice " + spec.maxHourlyPrice().get() + "/h");
            continue;
          }
          fitOffers.add(o);
          fitSpot.add(spot);
        }
      }
    }
    if (fitOffers.isEmpty() && otherShapes > 0 && exclusions.isEmpty()) {
      exclusions.add(() -> "no wired provider offers any of the shapes " + spec.accelerators().shapes()
          + " (wired shapes: " + byShape.keySet() + ")");
    } else if (fitOffers.isEmpty() && offers.isEmpty()) {
      exclusions.add(() -> "no offers wired");
    }
    return new StaticFit(List.copyOf(fitOffers), List.copyOf(fitSpot), List.copyOf(exclusions), preemptions, excludedOffers.size());
  }

  /**
   * Why the provider cannot deliver the job's secrets, naming each variable and its kind (a
   * reference in words, never a value), or empty when it can or did not say ({@link SecretDelivery}).
   */
  private String undeliverableSecrets(JobSpec spec, String providerId) {
    Set<Secret.Kind> kinds = secretKinds.get(providerId);
    if (kinds == null) {
      return "";
    }
    List<String> missing = new ArrayList<>();
    spec.workload().secretEnv().forEach((name, secret) -> {
      if (secret.kind() != Secret.Kind.UNAVAILABLE && !kinds.contains(secret.kind())) {
        missing.add("secretEnv[" + name + "] (" + secret.describe() + ")");
      }
    });
    if (missing.isEmpty()) {
      return "";
    }
    missing.sort(null);
    return "provider " + providerId + " cannot deliver " + String.join(", ", missing) + "; it delivers "
        + (kinds.isEmpty() ? "no secrets" : new java.util.TreeSet<>(kinds).toString());
  }

  /**
   * Evaluates every offer for the job.
   *
   * @param excludedOffers offer keys this job may never use again (an invalid request there), with
   *     the provider's refusal
   * @param spent what the job has cost so far
   * @param liveByOffer live attempts per offer key, for offers with finite capacity
   */
  Evaluation evaluate(
      JobSpec spec, int preemptions, Map<String, String> excludedOffers, Money spent, Map<String, Integer> liveByOffer, Instant now) {
    return evaluate(spec, staticFit(spec, preemptions, excludedOffers), spent, liveByOffer, now);
  }

  /** Evaluates the job's statically fitting offers against what is true {@code now}. */
  Evaluation evaluate(JobSpec spec, StaticFit fit, Money spent, Map<String, Integer> liveByOffer, Instant now) {
    Evaluation ev = new Evaluation();
    ev.staticExclusions = fit.exclusions();
    for (int i = 0; i < fit.offers().size(); i++) {
      Offer o = fit.offers().get(i);
      boolean spot = fit.spot().get(i);
      PlacementCandidate c = null;
      if (spec.maxTotalCost().isPresent()) {
        c = candidate(spec, o, spot, now);
        Money left = spec.maxTotalCost().get().minusOrZero(spent);
        if (c.estimatedCost().isGreaterThan(left)) {
          Money estimate = c.estimatedCost();
          ev.exclude(() -> "estimated cost " + estimate + " above the " + left + " left of maxTotalCost");
          continue;
        }
      }
      var block = health.blockOf(o, spot, now);
      if (block.isPresent()) {
        OfferHealth.Block b = block.get();
        ev.unavailable.add(new Unavailable(o, spot, b.until(), () -> "blocked until " + b.until() + ": " + b.reason()));
        continue;
      }
      if (unhealthy.test(o)) {
        ev.unavailable.add(new Unavailable(o, spot, null, () -> "provider " + o.providerId() + " region " + o.region()
            + " is failing: its circuit breaker is open"));
        continue;
      }
      if (health.createsSaturated(o)) {
        ev.unavailable.add(new Unavailable(o, spot, null, () -> "recovering from a stockout: as many creates in flight "
            + "as it takes for now"));
        continue;
      }
      int live = liveByOffer.getOrDefault(keys.of(o), 0);
      if (live >= o.capacity()) {
        ev.unavailable.add(new Unavailable(o, spot, null, () -> "full: " + live + " of " + o.capacity() + " in use"));
        continue;
      }
      ev.available.add(c != null ? c : candidate(spec, o, spot, now));
    }
    return ev;
  }

  /** The estimates for one (offer, tier). */
  PlacementCandidate candidate(JobSpec spec, Offer o, boolean spot, Instant now) {
    Duration run = spec.referenceRunTime().map(r -> r.scaledTo(o.shape())).orElse(DEFAULT_RUN_TIME);
    double hours = run.toMillis() / 3_600_000.0;
    double wallHours = hours;
    double expectedPreemptions = 0;
    if (spot) {
      double rate = health.preemptionRate(o);
      if (spec.checkpointLocation().isPresent()) {
        wallHours = hours + rate * hours * (restartOverhead.toMillis() / 3_600_000.0);
      } else if (rate > 0) {
        // Restarting from scratch after each preemption: expected wall time of a Poisson-interrupted run.
        wallHours = Math.min(10 * hours, Math.expm1(rate * hours) / rate);
      }
      expectedPreemptions = rate * wallHours;
    }
    Money hourly = o.hourly(spot);
    return new PlacementCandidate(
        o, spot, hourly, run, hourly.times(wallHours), health.expectedTimeToStart(o, now), expectedPreemptions,
        health.recentFailures(o, now));
  }

  /**
   * Orders candidates: spot first when the job prefers spot, then by the policy's score. The
   * policy's explanation, which costs a formatted string per candidate, is asked only when {@code
   * withReasons} ({@code Dispatcher.plan}); a placement decision needs the order alone.
   */
  List<Ranked> rank(JobSpec spec, List<PlacementCandidate> candidates, boolean withReasons) {
    boolean spotFirst = spec.spot() == SpotPolicy.PREFER;
    List<Ranked> out = new ArrayList<>(candidates.size());
    for (PlacementCandidate c : candidates) {
      double score = policy.score(spec, c);
      if (!Double.isFinite(score)) {
        throw new IllegalStateException("placement policy returned a non-finite score for " + c.offer().key());
      }
      String reason = withReasons ? (spotFirst && c.spot() ? "spot preferred; " : "") + policy.explain(spec, c) : "";
      out.add(new Ranked(c, score, reason));
    }
    Comparator<Ranked> order = Comparator.comparingDouble(Ranked::score);
    if (spotFirst) {
      order = Comparator.<Ranked, Boolean>comparing(r -> !r.candidate().spot()).thenComparing(order);
    }
    out.sort(order.thenComparing(r -> keys.of(r.candidate().offer())));
    return out;
  }
}
