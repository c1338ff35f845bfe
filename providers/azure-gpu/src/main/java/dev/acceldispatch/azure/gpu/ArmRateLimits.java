package dev.acceldispatch.azure.gpu;

/**
 * The client-side token buckets the provider keeps in front of Azure Resource Manager, shaped to
 * ARM's per-subscription, per-principal buckets (one each for reads, writes and deletes). When a
 * bucket is empty the call is not sent: the provider throws {@code ProviderException.Throttled}
 * with the time until the next token, and the engine waits that long.
 *
 * @param readBurst reads bucket size
 * @param readsPerSecond reads refill rate
 * @param writeBurst writes bucket size
 * @param writesPerSecond writes refill rate
 * @param deleteBurst deletes bucket size
 * @param deletesPerSecond deletes refill rate
 */
public record ArmRateLimits(
    int readBurst, double readsPerSecond, int writeBurst, double writesPerSecond, int deleteBurst,
    double deletesPerSecond) {

  /**
   * ARM's published per-principal limits (2024 token buckets): reads 250 refilled at 25/s, writes
   * 200 at 10/s, deletes 200 at 10/s.
   */
  public static final ArmRateLimits DEFAULT = new ArmRateLimits(250, 25, 200, 10, 200, 10);

  /** Validates. */
  public ArmRateLimits {
    check("readBurst", readBurst, readsPerSecond);
    check("writeBurst", writeBurst, writesPerSecond);
    check("deleteBurst", deleteBurst, deletesPerSecond);
  }

  private static void check(String name, int burst, double rate) {
    if (burst < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + burst);
    }
    if (!(rate > 0)) {
      throw new IllegalArgumentException(name + " refill rate must be > 0, got " + rate);
    }
  }
}
