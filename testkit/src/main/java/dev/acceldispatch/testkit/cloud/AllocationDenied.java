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

  /** Why the allocation was denied. */
  private final Reason reason;
  /** The quota exceeded, or the pool for a stockout. */
  private final String quotaName;
  /** The quota's scope (a zone, a region or global), or the zone of a stockout. */
  private final String scope;
  /** The quota limit, 0 for a stockout. */
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
