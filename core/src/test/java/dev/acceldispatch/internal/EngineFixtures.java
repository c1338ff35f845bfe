package dev.acceldispatch.internal;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Shapes;
import java.time.Instant;

/** Offers, specs and instants the engine's unit tests share. */
final class EngineFixtures {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  /** $36/h on demand, $12/h spot: a cent per second, a third of a cent spot. */
  static final Offer H100_A = new Offer("fake", "r1", "r1-a", Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), "h100x8",
      Money.usd(36), Money.usd(12), 4);

  private EngineFixtures() {}

  static JobSpec spec(String name) {
    return JobSpec.builder(name).script("true").accelerators(H100_A.shape()).build();
  }
}
