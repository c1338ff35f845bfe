package dev.acceldispatch.gcp.internal;

import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.ApiCallContext;
import com.google.api.gax.rpc.StatusCode;
import java.time.Duration;
import java.util.Set;

/**
 * The call context of every Google API call a provider makes: one attempt, bounded by the
 * provider's call timeout. The engine's Failsafe policies do the retrying; the SDK's own retries
 * would multiply them, and its default total timeouts (up to ten minutes) would hold an engine
 * thread far past the provider's limits.
 */
public final class SingleAttempt {
  private SingleAttempt() {}

  /**
   * {@code base} (the transport's default context, gRPC or HTTP/JSON) with one attempt, no
   * retryable codes and {@code timeout} as both the attempt's and the total timeout.
   */
  public static ApiCallContext context(ApiCallContext base, Duration timeout) {
    RetrySettings once = RetrySettings.newBuilder()
        .setMaxAttempts(1)
        .setTotalTimeoutDuration(timeout)
        .setInitialRpcTimeoutDuration(timeout)
        .setMaxRpcTimeoutDuration(timeout)
        .setRpcTimeoutMultiplier(1.0)
        .setInitialRetryDelayDuration(Duration.ZERO)
        .setMaxRetryDelayDuration(Duration.ZERO)
        .setRetryDelayMultiplier(1.0)
        .build();
    return base.withTimeoutDuration(timeout).withRetrySettings(once).withRetryableCodes(Set.<StatusCode.Code>of());
  }
}
