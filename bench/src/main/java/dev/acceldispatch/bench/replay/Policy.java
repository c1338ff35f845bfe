package dev.acceldispatch.bench.replay;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.spi.PlacementPolicy;
import java.time.Duration;

/**
 * A policy compared in the replay: a placement policy for the engine plus what it adds to every
 * job's spec. All four run through the real engine.
 *
 * @param key a, b, c or d
 * @param name for the report
 * @param placement the engine's placement policy
 * @param how in words, for the report
 */
public record Policy(String key, String name, PlacementPolicy placement, String how) {

  /** The four policies of the benchmark, by key. */
  public static Policy of(String key) {
    return switch (key) {
      case "a" -> new Policy("a", "single-region on-demand FCFS", PlacementPolicy.CHEAPEST,
          "providers(gcp-gpu) + regions(us-central1) + spot NEVER, CHEAPEST within it, no hedging; "
              + "queue order is the engine's (priority, then fair share between the two tenants, FIFO within a tenant; "
              + "a job that does not fit is skipped, not blocking the ones behind: backfill, not strict FCFS)");
      case "b" -> new Policy("b", "cheapest-first failover (SkyPilot-like)", PlacementPolicy.CHEAPEST,
          "every cloud and region, CHEAPEST estimated cost first, no hedging; a capacity error blocks the "
              + "(provider, zone, shape) for 10 min and moves to the next offer; a preempted spot job is requeued "
              + "and its zone penalised, so it moves to the next cheapest zone");
      case "c" -> new Policy("c", "AccelDispatch default (BALANCED)", PlacementPolicy.BALANCED,
          "every cloud and region, BALANCED (cost + expected wait priced at the offer's rate), no hedging; "
              + "a capacity error blocks the (provider, zone, shape) and the larger shapes of its type there for 10 min, "
              + "doubled while it stays out of stock, up to 40 min (the engine's defaults)");
      case "d" -> new Policy("d", "AccelDispatch BALANCED + hedging", PlacementPolicy.BALANCED,
          "as (c), plus hedge(2) for jobs of >= mapping.hedgeMinGpus GPUs (the scarce shapes)");
      default -> throw new IllegalArgumentException("policy must be one of a, b, c, d, got '" + key + "'");
    };
  }

  /**
   * What this policy sets on the dispatcher: the two baselines block a stocked-out (provider,
   * zone, shape) for a fixed 10 min, as SkyPilot's blocklist does; ours use the engine's defaults
   * (backoff, and the larger shapes of the type blocked with the one that failed).
   */
  public void configure(Dispatcher.Builder dispatcher) {
    if (key.equals("a") || key.equals("b")) {
      dispatcher.capacityBlock(Duration.ofMinutes(10)).stockoutCoversLargerShapes(false);
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
