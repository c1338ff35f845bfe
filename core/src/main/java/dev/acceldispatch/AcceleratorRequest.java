package dev.acceldispatch;

import java.util.List;
import java.util.Objects;

/**
 * What a job can run on: any one of several shapes, optionally with a minimum of total device
 * memory. This is what makes dispatch accelerator-aware: the same job may run on {@code tpu-v5e
 * x8} or {@code nvidia-h100-80gb x8}, and the engine compares their cost and time to start.
 *
 * @param shapes the acceptable shapes, at least one, no duplicates
 * @param minTotalMemoryGib the least total device memory a shape must have, 0 for no minimum
 */
public record AcceleratorRequest(List<AcceleratorShape> shapes, long minTotalMemoryGib) {

  /** Validates and copies. */
  public AcceleratorRequest {
    Objects.requireNonNull(shapes, "shapes");
    shapes = List.copyOf(shapes);
    if (shapes.isEmpty()) {
      throw new IllegalArgumentException("shapes: name at least one accelerator shape");
    }
    if (shapes.stream().distinct().count() != shapes.size()) {
      throw new IllegalArgumentException("shapes: each shape may appear once, got " + shapes);
    }
    if (minTotalMemoryGib < 0) {
      throw new IllegalArgumentException(
          "minTotalMemoryGib must be >= 0, got " + minTotalMemoryGib);
    }
    long min = minTotalMemoryGib;
    if (min > 0 && shapes.stream().noneMatch(s -> s.totalMemoryGib() >= min)) {
      throw new IllegalArgumentException(
          "minTotalMemoryGib: none of the shapes " + shapes + " has " + min + " GiB of device memory");
    }
  }

  /** Any one of these shapes. */
  public static AcceleratorRequest anyOf(AcceleratorShape first, AcceleratorShape... more) {
    java.util.ArrayList<AcceleratorShape> all = new java.util.ArrayList<>();
    all.add(first);
    all.addAll(List.of(more));
    return new AcceleratorRequest(all, 0);
  }

  /** Any one of these shapes. */
  public static AcceleratorRequest anyOf(List<AcceleratorShape> shapes) {
    return new AcceleratorRequest(shapes, 0);
  }

  /** A copy that also demands at least {@code gib} GiB of total device memory. */
  public AcceleratorRequest withMinTotalMemoryGib(long gib) {
    return new AcceleratorRequest(shapes, gib);
  }

  /** Whether {@code shape} satisfies this request. */
  public boolean accepts(AcceleratorShape shape) {
    return shapes.contains(shape) && shape.totalMemoryGib() >= minTotalMemoryGib;
  }
}
