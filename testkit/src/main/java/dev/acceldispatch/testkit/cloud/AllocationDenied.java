package dev.acceldispatch.testkit.cloud;

/**
 * The {@link CloudModel} refused an allocation. Emulators turn it into their cloud's error payload.
 */
public final class AllocationDenied extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** No capacity in the zone for the pool (stockout). */
    CAPACITY,
    /** A quota would be exceeded. */
    QUOTA
  }

  private final Reason reason;
  private final String quotaName;
  private final String scope;
  private final double limit;

  AllocationDenied(Reason reason, String quotaName, String scope, double limit, String message) {
    super(message);
    this.reason = reason;
    this.quotaName = quotaName;
    this.scope = scope;
    this.limit = limit;
  }

  /** Capacity or quota. */
  public Reason reason() {
    return reason;
  }

  /** For quota: the quota's name; for capacity: the pool. */
  public String quotaName() {
    return quotaName;
  }

  /** For quota: {@code global}, a region or a zone; for capacity: the zone. */
  public String scope() {
    return scope;
  }

  /** For quota: its limit. */
  public double limit() {
    return limit;
  }
}
