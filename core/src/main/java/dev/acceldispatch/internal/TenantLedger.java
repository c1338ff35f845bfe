package dev.acceldispatch.internal;

import dev.acceldispatch.Money;
import dev.acceldispatch.TenantQuota;
import dev.acceldispatch.TenantUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-tenant accounting: money spent, accelerator-hours held (the fair-share measure), devices and
 * hourly spend of live attempts, checked against each tenant's {@link TenantQuota}. Engine-thread
 * only, except {@link #usage}, which is synchronized for hosts.
 */
final class TenantLedger {
  private static final class Account {
    Money closedSpend = Money.ZERO;
    int devices;
    double hourly;
    /** Hourly price of live attempts that are running (accruing cost), and Σ price × start second. */
    double runningHourly;
    double runningAnchor;
    /** Device-hours held so far by all attempts, ended or live, integrated up to {@link #anchorAt}. */
    double accelHours;
    Instant anchorAt;
    int queued;
  }

  private final Map<String, TenantQuota> quotas;
  private final Map<String, Account> accounts = new HashMap<>();

  TenantLedger(Map<String, TenantQuota> quotas) {
    this.quotas = quotas;
  }

  TenantQuota quota(String tenant) {
    return quotas.getOrDefault(tenant, TenantQuota.UNLIMITED);
  }

  private Account account(String tenant) {
    return accounts.computeIfAbsent(tenant, t -> new Account());
  }

  /** Brings the live accelerator-hours integral up to {@code now}. */
  private void advance(Account a, Instant now) {
    if (a.anchorAt != null) {
      a.accelHours += a.devices * Duration.between(a.anchorAt, now).toMillis() / 3_600_000.0;
    }
    a.anchorAt = now;
  }

  synchronized void attemptStarted(String tenant, int devices, Money hourly, Instant now) {
    Account a = account(tenant);
    advance(a, now);
    a.devices += devices;
    a.hourly += hourly.toDouble();
  }

  synchronized void attemptEnded(String tenant, int devices, Money hourly, Money cost, Instant now) {
    Account a = account(tenant);
    advance(a, now);
    a.devices -= devices;
    a.hourly = Math.max(0, a.hourly - hourly.toDouble());
    a.closedSpend = a.closedSpend.plus(cost);
  }

  /** A live attempt started running at {@code at}: from then on it accrues cost. */
  synchronized void attemptRunning(String tenant, Money hourly, Instant at) {
    Account a = account(tenant);
    a.runningHourly += hourly.toDouble();
    a.runningAnchor += hourly.toDouble() * at.getEpochSecond();
  }

  /** A running attempt stopped accruing (it ended, or this instance gave it up). */
  synchronized void attemptStoppedRunning(String tenant, Money hourly, Instant runningAt) {
    Account a = account(tenant);
    a.runningHourly -= hourly.toDouble();
    a.runningAnchor -= hourly.toDouble() * runningAt.getEpochSecond();
  }

  /** What the tenant's running attempts have cost so far: O(1), for every placement decision. */
  synchronized Money liveSpend(String tenant, Instant now) {
    Account a = account(tenant);
    double accrued = (a.runningHourly * now.getEpochSecond() - a.runningAnchor) / 3600.0;
    return accrued <= 0 ? Money.ZERO : Money.usd(accrued);
  }

  synchronized void queuedChanged(String tenant, int delta) {
    account(tenant).queued += delta;
  }

  /** Spend of ended attempts (live attempts are added by the engine, which knows their start). */
  synchronized Money closedSpend(String tenant) {
    return account(tenant).closedSpend;
  }

  /**
   * The fair-share key: accelerator-hours held so far plus one hour per device held now, over the
   * tenant's weight. Counting held devices makes a placement count at once, so one pass does not
   * hand everything to the tenant that was behind.
   */
  synchronized double fairShareKey(String tenant, Instant now) {
    Account a = account(tenant);
    advance(a, now);
    return (a.accelHours + a.devices) / quota(tenant).weight();
  }

  /** Why the tenant may not place another attempt of this size now, or null when it may. */
  synchronized String quotaBlocker(String tenant, int devices, Money hourly, Money liveSpend, Instant now) {
    TenantQuota q = quota(tenant);
    Account a = account(tenant);
    if (a.devices + devices > q.maxConcurrentDevices()) {
      return "tenant " + tenant + " holds " + a.devices + " devices; +" + devices + " would pass its limit of " + q.maxConcurrentDevices();
    }
    if (q.maxHourlySpend() != null && a.hourly + hourly.toDouble() > q.maxHourlySpend().toDouble() + 1e-9) {
      return "tenant " + tenant + " spends " + Money.usd(a.hourly) + "/h; +" + hourly + "/h would pass its limit of " + q.maxHourlySpend() + "/h";
    }
    if (q.budget() != null && a.closedSpend.plus(liveSpend).compareTo(q.budget()) >= 0) {
      return "tenant " + tenant + " has spent its budget of " + q.budget();
    }
    return null;
  }

  synchronized TenantUsage usage(String tenant, Money liveSpend, Instant now) {
    Account a = account(tenant);
    advance(a, now);
    return new TenantUsage(
        tenant, a.closedSpend.plus(liveSpend), a.accelHours, a.devices,
        Money.usd(a.hourly), a.queued);
  }
}
