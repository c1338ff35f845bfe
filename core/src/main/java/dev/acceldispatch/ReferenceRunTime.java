package dev.acceldispatch;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a job took (or is expected to take) on one named shape. The engine scales it to other
 * shapes by their relative peak throughput to estimate time and cost everywhere.
 *
 * @param shape the shape the time was measured on
 * @param runTime the run time there, positive
 */
public record ReferenceRunTime(AcceleratorShape shape, Duration runTime) {
  /** Validates. */
  public ReferenceRunTime {
    Objects.requireNonNull(shape, "referenceRunTime.shape");
    Objects.requireNonNull(runTime, "referenceRunTime.runTime");
    if (runTime.isZero() || runTime.isNegative()) {
      throw new IllegalArgumentException("referenceRunTime must be positive, got " + runTime);
    }
  }

  /** The run time scaled to {@code target} by total peak throughput. */
  public Duration scaledTo(AcceleratorShape target) {
    double ratio = shape.totalTflops() / target.totalTflops();
    return Duration.ofMillis(Math.max(1, Math.round(runTime.toMillis() * ratio)));
  }
}
