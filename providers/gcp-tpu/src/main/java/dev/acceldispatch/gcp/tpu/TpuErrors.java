package dev.acceldispatch.gcp.tpu;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.ErrorDetails;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.acceldispatch.spi.ProviderException;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Locale;

/**
 * Maps Cloud TPU API errors, whether thrown by a call ({@link ApiException}) or held by a failed
 * queued resource or operation ({@code google.rpc.Status}), onto the SPI's taxonomy, keeping the
 * cloud's code name (for example {@code RESOURCE_EXHAUSTED}) and message.
 *
 * <p>RESOURCE_EXHAUSTED means three different things on this API: request-rate limiting (it comes
 * with an ErrorInfo reason {@code RATE_LIMIT_EXCEEDED} and/or a RetryInfo, and speaks of "per
 * minute"), a resource quota ("Quota limit '...' has been exceeded"), or no capacity in the zone
 * ("There is no more capacity in the zone ..."). They are told apart in that order.
 */
final class TpuErrors {
  private TpuErrors() {}

  static ProviderException fromApi(String providerId, String zone, ApiException e) {
    String code = e.getStatusCode().getCode().name();
    String message = e.getCause() instanceof StatusRuntimeException sre && sre.getStatus().getDescription() != null
        ? sre.getStatus().getDescription()
        : e.getMessage();
    Duration retryAfter = null;
    String reason = null;
    ErrorDetails details = e.getErrorDetails();
    if (details != null) {
      RetryInfo ri = details.getRetryInfo();
      if (ri != null && ri.hasRetryDelay()) {
        retryAfter = Duration.ofSeconds(ri.getRetryDelay().getSeconds(), ri.getRetryDelay().getNanos());
      }
      ErrorInfo info = details.getErrorInfo();
      if (info != null) {
        reason = info.getReason();
      }
    }
    return classify(providerId, zone, code, message, retryAfter, reason, e);
  }

  static ProviderException fromStatus(String providerId, String zone, com.google.rpc.Status status) {
    String code = io.grpc.Status.fromCodeValue(status.getCode()).getCode().name();
    Duration retryAfter = null;
    String reason = null;
    for (Any any : status.getDetailsList()) {
      try {
        if (any.is(RetryInfo.class)) {
          RetryInfo ri = any.unpack(RetryInfo.class);
          retryAfter = Duration.ofSeconds(ri.getRetryDelay().getSeconds(), ri.getRetryDelay().getNanos());
        } else if (any.is(ErrorInfo.class)) {
          reason = any.unpack(ErrorInfo.class).getReason();
        }
      } catch (InvalidProtocolBufferException ignored) {
        // a detail we cannot read does not change the code
      }
    }
    return classify(providerId, zone, code, status.getMessage(), retryAfter, reason, null);
  }

  /** Anything that is not an API error: the SDK or the channel broke. */
  static ProviderException unexpected(String providerId, String zone, RuntimeException e) {
    return new ProviderException.Transient(providerId, zone, "UNKNOWN", e.getClass().getSimpleName() + ": " + e.getMessage(), e);
  }

  static ProviderException classify(
      String providerId, String zone, String code, String message, Duration retryAfter, String reason, Throwable cause) {
    String msg = message == null ? "" : message;
    String lower = msg.toLowerCase(Locale.ROOT);
    switch (code) {
      case "RESOURCE_EXHAUSTED" -> {
        if (retryAfter != null || "RATE_LIMIT_EXCEEDED".equals(reason) || lower.contains("per minute")
            || lower.contains("rate limit")) {
          return new ProviderException.Throttled(providerId, zone, retryAfter, code, msg, cause);
        }
        if (lower.contains("quota")) {
          return new ProviderException.QuotaExceeded(providerId, zone, quotaScope(lower), code, msg, cause);
        }
        return new ProviderException.CapacityUnavailable(providerId, zone, code, msg, cause);
      }
      case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "ALREADY_EXISTS", "UNIMPLEMENTED", "NOT_FOUND" -> {
        return new ProviderException.InvalidRequest(providerId, zone, code, msg, cause);
      }
      case "PERMISSION_DENIED" -> {
        return new ProviderException.PermissionDenied(providerId, zone, false, code, msg, cause);
      }
      case "UNAUTHENTICATED" -> {
        return new ProviderException.PermissionDenied(providerId, zone, true, code, msg, cause);
      }
      default -> {
        // UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ABORTED, CANCELLED, UNKNOWN, DATA_LOSS and anything new.
        return new ProviderException.Transient(providerId, zone, code, msg, cause);
      }
    }
  }

  /** TPU quotas are per zone unless the message says otherwise ("globally", "in region"). */
  private static ProviderException.QuotaExceeded.Scope quotaScope(String lowerMessage) {
    if (lowerMessage.contains("globally")) {
      return ProviderException.QuotaExceeded.Scope.PROVIDER;
    }
    if (lowerMessage.contains("in region") || lowerMessage.contains("perregion")) {
      return ProviderException.QuotaExceeded.Scope.REGION;
    }
    return ProviderException.QuotaExceeded.Scope.ZONE;
  }
}
