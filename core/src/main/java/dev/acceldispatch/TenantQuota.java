package dev.acceldispatch;

import java.util.Objects;

/**
 * Limits and fair-share weight of one tenant. A job whose placement would break a limit waits in
 * the queue; other tenants' jobs go ahead of it.
 *
 * @param weight the tenant's fair-share weight (positive; a tenant with weight 2 gets twice the
 *     accelerator-hours of one with weight 1 when both have work queued)
 * @param maxConcurrentDevices the most accelerators the tenant may hold at once
 * @param maxHourlySpend the most the tenant's live attempts may cost per hour together, or {@code
 *     null} for no limit
 * @param budget the most the tenant may spend in total; once spent, no new placements; {@code null}
 *     for no limit
 */
public record TenantQuota(double weight, int maxConcurrentDevices, Money maxHourlySpend, Money budget) {
  /** Weight 1, no limits. */
  public static final TenantQuota UNLIMITED = new TenantQuota(1, Integer.MAX_VALUE, null, null);

  /** Validates. */
  public TenantQuota {
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("weight must be a positive number, got " + weight);
    }
    if (maxConcurrentDevices < 0) {
      throw new IllegalArgumentException("maxConcurrentDevices must be >= 0, got " + maxConcurrentDevices);
    }
  }

  /** A copy with this weight. */
  public TenantQuota withWeight(double w) {
    return new TenantQuota(w, maxConcurrentDevices, maxHourlySpend, budget);
  }

  /** A copy with this device limit. */
  public TenantQuota withMaxConcurrentDevices(int devices) {
    return new TenantQuota(weight, devices, maxHourlySpend, budget);
  }

  /** A copy with this hourly spend limit. */
  public TenantQuota withMaxHourlySpend(Money perHour) {
    return new TenantQuota(weight, maxConcurrentDevices, Objects.requireNonNull(perHour), budget);
  }

  /** A copy with this total budget. */
  public TenantQuota withBudget(Money total) {
    return new TenantQuota(weight, maxConcurrentDevices, maxHourlySpend, Objects.requireNonNull(total));
  }
}
