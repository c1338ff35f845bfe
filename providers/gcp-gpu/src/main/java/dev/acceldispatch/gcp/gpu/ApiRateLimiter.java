package dev.acceldispatch.gcp.gpu;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Keeps the provider inside GCE's per-project API rate quotas, counted as GCE counts them: in
 * fixed 60-second windows per group. A call over the budget is not made; the caller gets the time
 * until the next window and reports {@code Throttled} with it, so the engine waits instead of
 * spending a call that the cloud would refuse.
 */
final class ApiRateLimiter {
  /** GCE's rate-quota groups. */
  enum Group {
    MUTATION,
    READ,
    LIST,
    OPERATION_READ
  }

  private static final long WINDOW_MILLIS = 60_000;

  private final Clock clock;
  private final Map<Group, Integer> limits = new EnumMap<>(Group.class);
  private final Map<Group, Integer> used = new EnumMap<>(Group.class);
  private final Map<Group, Long> windows = new EnumMap<>(Group.class);

  ApiRateLimiter(GceApiQuotas quotas, Clock clock) {
    this.clock = clock;
    limits.put(Group.MUTATION, quotas.mutationsPerMinute());
    limits.put(Group.READ, quotas.readsPerMinute());
    limits.put(Group.LIST, quotas.listsPerMinute());
    limits.put(Group.OPERATION_READ, quotas.operationReadsPerMinute());
  }

  /** Takes one call from {@code group}'s budget; returns zero, or how long until the next window. */
  synchronized Duration tryAcquire(Group group) {
    long now = clock.millis();
    long window = Math.floorDiv(now, WINDOW_MILLIS);
    if (windows.getOrDefault(group, Long.MIN_VALUE) != window) {
      windows.put(group, window);
      used.put(group, 0);
    }
    int n = used.get(group);
    if (n >= limits.get(group)) {
      return Duration.ofMillis((window + 1) * WINDOW_MILLIS - now);
    }
    used.put(group, n + 1);
    return Duration.ZERO;
  }
}
