package dev.acceldispatch.bench.replay;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.spi.PlacementPolicy;
import java.time.Duration;

/**
 * A policy compared in the replay: a placement policy for the engine, what it adds to every job's
 * spec, and how its jobs reach the engine ({@link Driver}). All run through the real engine.
 *
 * @param key one letter: a, b, c, d, e or o
 * @param name for the report
 * @param placement the engine's placement policy (a driver may replace it with its own)
 * @param driver how trace jobs are handed to the engine
 * @param how in words, for the report
 */
public record Policy(String key, String name, PlacementPolicy placement, DriverKind driver, String how) {

  /** How a policy's jobs reach the engine. */
  public enum DriverKind {
    /** Submitted when they arrive. */
    PLAIN,
    /** SkyPilot's managed-jobs controller around the engine ({@link SkyPilotDriver}). */
    SKYPILOT,
    /** Held until the oracle knows a create will succeed ({@link ClairvoyantDriver}). */
    CLAIRVOYANT
  }

  /** Every policy key, in report order. */
  public static final String ALL = "abcdeo";

  /** The policies of the benchmark, by key. */
  public static Policy of(String key) {
    return switch (key) {
      case "a" -> new Policy("a", "single-region on-demand FCFS", PlacementPolicy.CHEAPEST, DriverKind.PLAIN,
          "providers(gcp-gpu) + regions(us-central1) + spot NEVER, CHEAPEST within it, no hedging; "
              + "queue order is the engine's (priority, then fair share between the two tenants, FIFO within a tenant; "
              + "a job that does not fit is skipped, not blocking the ones behind: backfill, not strict FCFS)");
      case "b" -> new Policy("b", "SkyPilot managed jobs as documented", PlacementPolicy.CHEAPEST, DriverKind.SKYPILOT,
          "optimizer by hourly price with its 1-hour default estimate (sky/optimizer.py @91190ad), spot first "
              + "(any_of spot, on-demand); a per-launch, per-job blocklist of failed (cloud, zone or Azure region, instance, "
              + "spot), next cheapest launchable after each failure (sky/backends/cloud_vm_ray_backend.py @8f4c480); when every "
              + "location failed, sleep Backoff(60 s, x1.6, cap 300 s, +-40 %) and relaunch with a fresh blocklist "
              + "(sky/jobs/recovery_strategy.py RETRY_INIT_GAP_SECONDS); EAGER_NEXT_REGION on preemption: relaunch with the "
              + "preempted region blocked for up to 3 launches, then unconstrained (documented intent; see "
              + "skypilot-org/skypilot#10021). Granted beyond SkyPilot: the mapping's on-demand fallback after 2 preemptions (SkyPilot has none; "
              + "without it, week-long spot jobs that do not checkpoint restart forever). The engine's shared block is 1 ms; "
              + "the engine's slow start after a stockout (one create in flight per offer) still applies, which SkyPilot does not have");
      case "c" -> new Policy("c", "AccelDispatch default (BALANCED)", PlacementPolicy.BALANCED, DriverKind.PLAIN,
          "every cloud and region, BALANCED (cost + expected wait priced at the offer's rate), no hedging; "
              + "a capacity error blocks the (provider, zone, shape) and the larger shapes of its type there for 10 min, "
              + "doubled while it stays out of stock, up to 40 min (the engine's defaults)");
      case "d" -> new Policy("d", "AccelDispatch BALANCED + hedging", PlacementPolicy.BALANCED, DriverKind.PLAIN,
          "as (c), plus hedge(2) for jobs of >= mapping.hedgeMinGpus GPUs (the scarce shapes)");
      case "e" -> new Policy("e", "cheapest-first failover with a shared blocklist", PlacementPolicy.CHEAPEST, DriverKind.PLAIN,
          "the old (b): every cloud and region, CHEAPEST estimated cost to finish (our run-time-scaled estimate, which "
              + "SkyPilot does not have), no hedging; a capacity error blocks the (provider, zone, shape) for every job for "
              + "10 min; never sleeps; a preempted spot job is requeued with its zone penalised");
      case "o" -> new Policy("o", "clairvoyant reference", PlacementPolicy.CHEAPEST, DriverKind.CLAIRVOYANT,
          "the same engine, with an oracle on the simulated clouds: a job waits outside the engine until some (offer, tier) "
              + "would be filled at once (no stockout in the next 15 min) and, for spot, the zone's next spot machine outlives "
              + "boot plus the run; then it is submitted pinned to the cheapest such (offer, tier). Never a refused create, "
              + "never a preemption; not an optimum (it does not wait for a cheaper offer)");
      default -> throw new IllegalArgumentException("policy must be one of " + ALL + ", got '" + key + "'");
    };
  }

  /**
   * What this policy sets on the dispatcher. SkyPilot's blocklist is its own (per job, per
   * launch): the engine's shared block is made as short as it can be (1 ms). The old cheapest-first
   * row and (a) block a stocked-out (provider, zone, shape) for a fixed 10 min for every job.
   */
  public void configure(Dispatcher.Builder dispatcher) {
    switch (key) {
      case "a", "e" -> dispatcher.capacityBlock(Duration.ofMinutes(10)).stockoutCoversLargerShapes(false);
      case "b" -> dispatcher.capacityBlock(Duration.ofMillis(1), Duration.ofMillis(1)).stockoutCoversLargerShapes(false)
          .preemptionPenalty(Duration.ofMillis(1));
      default -> { }
    }
  }

  /** What this policy adds to a job's spec. */
  public JobSpec apply(JobSpec.Builder spec, TraceJob job, ModelParameters m) {
    switch (key) {
      case "a" -> spec.providers(m.string("baseline.singleRegionProvider"))
          .regions(m.string("baseline.singleRegion"))
          .spot(SpotPolicy.NEVER)
          .onDemandAfterPreemptions(-1);
      case "d" -> {
        if (job.gpus() >= m.number("mapping.hedgeMinGpus")) {
          spec.hedge(2);
        }
      }
      default -> { }
    }
    return spec.build();
  }
}
