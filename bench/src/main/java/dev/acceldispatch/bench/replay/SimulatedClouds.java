package dev.acceldispatch.bench.replay;

import static dev.acceldispatch.AcceleratorType.NVIDIA_A100_40GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_A100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_H100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_H100_NVL_94GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_L4;
import static dev.acceldispatch.AcceleratorType.NVIDIA_T4;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.TaskScheduler;
import dev.acceldispatch.testkit.ManualClock;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The three simulated clouds of the replay (Google Cloud TPU v5e, Google Cloud GPU, Azure GPU),
 * each a {@link SimProvider} on its own {@link CloudModel}, all on one virtual clock, built from
 * {@link ModelParameters} and {@link PriceCatalog#defaults()}. Deterministic for a seed.
 */
final class SimulatedClouds {
  static final List<Integer> TPU_SLICES = List.of(1, 4, 8, 16, 32, 64, 128, 256);

  final List<SimProvider> providers = new ArrayList<>();
  final List<Offer> offers = new ArrayList<>();

  private SimulatedClouds() {}

  /**
   * @param horizon how far ahead to draw stockout windows
   * @param capacityScale multiplies every capacity
   */
  static SimulatedClouds build(ModelParameters m, ManualClock clock, TaskScheduler scheduler, long seed, Duration horizon,
      double capacityScale) {
    SimulatedClouds c = new SimulatedClouds();
    PriceCatalog prices = PriceCatalog.defaults();
    Random stockoutRandom = new Random(seed * 31 + 7);
    long providerSeed = seed;
    for (String provider : List.of("gcp-tpu", "gcp-gpu", "azure-gpu")) {
      CloudModel cloud = CloudModel.create(clock, ++providerSeed);
      // Preemptions are drawn by the SimProvider (per zone, readable by the oracle), not the model.
      SimProvider.Rules rules = new SimProvider.Rules(
          SimProvider.Refusal.parse(m.string("refusal." + provider)),
          Duration.ofSeconds(Math.round(m.number("billing.minimumSeconds." + provider))),
          m.number("preemption." + provider), m.number("errors.provision"), m.number("errors.status"),
          m.number("errors.release"));
      List<Offer> offers = new ArrayList<>();
      Map<String, String> zones = m.zones(provider);
      for (Map.Entry<String, String> zr : zones.entrySet()) {
        offers.addAll(offersIn(provider, zr.getValue(), zr.getKey(), prices));
      }
      SimProvider sim = new SimProvider(provider, cloud, scheduler, offers, rules, seed * 1_000 + providerSeed);
      sim.provisioningTime(Duration.ofSeconds(Math.round(m.number("provisioning." + provider))));
      Instant t0 = clock.instant();
      double meanHours = m.number("stockout.meanHours");
      for (String zone : zones.keySet()) {
        for (Map.Entry<String, Integer> cap : m.capacities(provider).entrySet()) {
          String type = cap.getKey();
          // At least one 8-device machine per zone and type, so that a scaled-down cloud can still run every job.
          sim.capacity(zone, type, (int) Math.max(8, Math.round(cap.getValue() * capacityScale)));
          double perDay = m.number("stockout.perDay." + type, 0);
          if (perDay <= 0) {
            continue;
          }
          // Poisson arrivals, exponential durations: drawn up front, so every policy sees the same windows.
          double t = 0;
          double horizonDays = horizon.toMillis() / 86_400_000.0;
          while (true) {
            t += -Math.log(1 - stockoutRandom.nextDouble()) / perDay;
            if (t >= horizonDays) {
              break;
            }
            double hours = -Math.log(1 - stockoutRandom.nextDouble()) * meanHours;
            Instant from = t0.plusMillis(Math.round(t * 86_400_000));
            sim.stockout(zone, type, from, from.plusMillis(Math.round(hours * 3_600_000)));
          }
        }
      }
      c.providers.add(sim);
      c.offers.addAll(offers);
    }
    return c;
  }

  /** What the machine {@code resourceName} of {@code provider} did, once it was deleted. */
  java.util.Optional<SimProvider.Outcome> outcome(String provider, String resourceName) {
    for (SimProvider p : providers) {
      if (p.id().equals(provider)) {
        return p.outcome(resourceName);
      }
    }
    return java.util.Optional.empty();
  }

  /** Every machine type the replay wires in one zone, priced from the catalog. */
  static List<Offer> offersIn(String provider, String region, String zone, PriceCatalog prices) {
    List<Offer> out = new ArrayList<>();
    switch (provider) {
      case "gcp-tpu" -> {
        for (int chips : TPU_SLICES) {
          out.add(priced(provider, region, zone, Shapes.tpuV5e(chips), "v5litepod-" + chips, prices, "tpu-v5e-chip", chips));
        }
      }
      case "gcp-gpu" -> {
        for (int n : List.of(1, 2, 4, 8)) {
          out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_A100_40GB, n), "a2-highgpu-" + n + "g", prices, "a2-highgpu-1g", n));
        }
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_H100_80GB, 8), "a3-highgpu-8g", prices, "a3-highgpu-8g", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_L4, 1), "g2-standard-4", prices, "g2-standard-4", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_T4, 1), "n1-standard-4-t4x1", prices, "n1-standard-4-t4x1", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_T4, 2), "n1-standard-8-t4x2", prices, "n1-standard-8-t4x2", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_T4, 4), "n1-standard-16-t4x4", prices, "n1-standard-16-t4x4", 1));
      }
      case "azure-gpu" -> {
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_A100_80GB, 1), "Standard_NC24ads_A100_v4", prices, "Standard_NC24ads_A100_v4", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_A100_80GB, 2), "Standard_NC48ads_A100_v4", prices, "Standard_NC24ads_A100_v4", 2));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_A100_80GB, 4), "Standard_NC96ads_A100_v4", prices, "Standard_NC24ads_A100_v4", 4));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_H100_80GB, 8), "Standard_ND96isr_H100_v5", prices, "Standard_ND96isr_H100_v5", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_H100_NVL_94GB, 1), "Standard_NC40ads_H100_v5", prices, "Standard_NC40ads_H100_v5", 1));
        out.add(priced(provider, region, zone, Shapes.gpu(NVIDIA_T4, 1), "Standard_NC4as_T4_v3", prices, "Standard_NC4as_T4_v3", 1));
      }
      default -> throw new IllegalArgumentException("provider: unknown " + provider);
    }
    return out;
  }

  private static Offer priced(String provider, String region, String zone, AcceleratorShape shape, String machineType,
      PriceCatalog prices, String sku, int multiple) {
    PriceCatalog.Prices p = prices.require(provider, sku, region);
    return Offer.of(provider, region, zone, shape, machineType, p.onDemand().times(multiple),
        p.spot() == null ? null : p.spot().times(multiple));
  }
}
