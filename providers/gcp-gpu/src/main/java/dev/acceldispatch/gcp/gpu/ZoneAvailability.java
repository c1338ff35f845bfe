package dev.acceldispatch.gcp.gpu;

import com.google.cloud.compute.v1.AcceleratorType;
import com.google.cloud.compute.v1.MachineType;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Which machine types and accelerator types exist in each zone, as Compute Engine's {@code
 * machineTypes.list} and {@code acceleratorTypes.list} say, cached per zone and refreshed when older
 * than the refresh interval (A2, A3 and G2 exist in some zones only; an N1 machine's T4 likewise).
 * Presence says nothing about capacity: stockouts still arrive in the insert operation.
 */
final class ZoneAvailability {
  /** One zone's lists, as read at {@code readAt}. */
  record Zone(Set<String> machineTypes, Map<String, Integer> maxCardsByAcceleratorType, Instant readAt) {
    boolean offers(GpuMachineType t) {
      if (!machineTypes.contains(t.machineType())) {
        return false;
      }
      if (t.guestAcceleratorType() == null) {
        return true;
      }
      Integer max = maxCardsByAcceleratorType.get(t.guestAcceleratorType());
      return max != null && max >= t.gpuCount();
    }
  }

  private final Function<String, Zone> reader;
  private final Duration refresh;
  private final java.time.Clock clock;
  private final Map<String, Zone> zones = new ConcurrentHashMap<>();

  ZoneAvailability(Function<String, Zone> reader, Duration refresh, java.time.Clock clock) {
    this.reader = reader;
    this.refresh = refresh;
    this.clock = clock;
  }

  /** The zone's lists, read now when never read or older than the refresh interval. */
  Zone zone(String zone) {
    Zone z = zones.get(zone);
    if (z == null || !clock.instant().isBefore(z.readAt().plus(refresh))) {
      z = reader.apply(zone);
      zones.put(zone, z);
    }
    return z;
  }

  static Zone of(Iterable<MachineType> machineTypes, Iterable<AcceleratorType> acceleratorTypes, Instant readAt) {
    Set<String> names = new java.util.HashSet<>();
    machineTypes.forEach(m -> names.add(m.getName()));
    Map<String, Integer> cards = new java.util.HashMap<>();
    acceleratorTypes.forEach(a -> {
      String state = a.hasDeprecated() ? a.getDeprecated().getState() : "ACTIVE";
      if (state.isEmpty() || state.equals("ACTIVE") || state.equals("DEPRECATED")) {
        cards.put(a.getName(), a.getMaximumCardsPerInstance());
      }
    });
    return new Zone(Set.copyOf(names), Map.copyOf(cards), readAt);
  }
}
