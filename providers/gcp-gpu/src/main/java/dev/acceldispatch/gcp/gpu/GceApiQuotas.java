package dev.acceldispatch.gcp.gpu;

/**
 * Compute Engine's per-project API rate quotas, which the provider keeps to on its own side
 * before the cloud answers 403 {@code rateLimitExceeded}. GCE counts them in fixed 60-second
 * windows, per group: mutations (insert, delete), reads ({@code instances.get},
 * getGuestAttributes), lists, and operation reads (https://cloud.google.com/compute/api-quota).
 * The defaults are GCE's defaults; a project with raised quotas, or several dispatchers sharing a
 * project, passes its own share.
 *
 * @param mutationsPerMinute insert and delete calls per minute
 * @param readsPerMinute get and getGuestAttributes calls per minute
 * @param listsPerMinute list calls per minute
 * @param operationReadsPerMinute zone operation reads per minute
 */
public record GceApiQuotas(
    int mutationsPerMinute, int readsPerMinute, int listsPerMinute, int operationReadsPerMinute) {

  /** GCE's default: 1,500 per minute in every group. */
  public static final GceApiQuotas DEFAULT = new GceApiQuotas(1500, 1500, 1500, 1500);

  /** Validates. */
  public GceApiQuotas {
    if (mutationsPerMinute < 1 || readsPerMinute < 1 || listsPerMinute < 1 || operationReadsPerMinute < 1) {
      throw new IllegalArgumentException(
          "every GCE API quota must be >= 1 per minute, got mutations " + mutationsPerMinute + ", reads "
              + readsPerMinute + ", lists " + listsPerMinute + ", operation reads " + operationReadsPerMinute);
    }
  }
}
