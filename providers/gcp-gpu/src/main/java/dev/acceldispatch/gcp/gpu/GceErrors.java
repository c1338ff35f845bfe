package dev.acceldispatch.gcp.gpu;

import com.google.api.client.http.HttpResponseException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.ErrorDetails;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Operation;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderException.QuotaExceeded.Scope;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps Compute Engine's errors onto the {@link ProviderException} taxonomy, keeping the cloud's own
 * code and message. Two sources: an HTTP error of a call (the JSON body {@code
 * {"error":{"code","message","errors":[{"reason","domain","message"}]}}} that the client keeps in
 * the {@link HttpResponseException} it wraps), and the {@code error.errors[]} of a DONE operation,
 * which the client does not turn into an exception unless the operation also carries an {@code
 * httpErrorStatusCode}.
 */
final class GceErrors {
  private GceErrors() {}

  private static final Pattern QUOTA_NAME = Pattern.compile("Quota '([A-Za-z0-9_-]+)' exceeded");

  /** An HTTP error of one call: status, GCE reason and message. */
  record HttpError(int status, String reason, String message, String retryAfter) {
    boolean isNotFound() {
      return status == 404;
    }

    boolean isAlreadyExists() {
      return status == 409 && ("alreadyExists".equals(reason) || reason.isEmpty());
    }
  }

  /** What an {@link ApiException} from the client says, with GCE's reason from the error body. */
  static HttpError describe(ApiException e) {
    int status = 0;
    String body = null;
    String retryAfter = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof HttpResponseException h) {
        status = h.getStatusCode();
        body = h.getContent();
        retryAfter = h.getHeaders() == null ? null : h.getHeaders().getFirstHeaderStringValue("Retry-After");
        break;
      }
    }
    if (status == 0 && e.getStatusCode().getTransportCode() instanceof Integer code) {
      status = code;
    }
    String reason = "";
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (body != null && !body.isBlank()) {
      try {
        Struct.Builder s = Struct.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(body, s);
        Value error = s.getFieldsMap().get("error");
        if (error != null && error.hasStructValue()) {
          Struct err = error.getStructValue();
          if (err.getFieldsMap().containsKey("message")) {
            message = err.getFieldsMap().get("message").getStringValue();
          }
          Value errors = err.getFieldsMap().get("errors");
          if (errors != null && errors.hasListValue() && errors.getListValue().getValuesCount() > 0) {
            Value first = errors.getListValue().getValues(0);
            if (first.hasStructValue() && first.getStructValue().getFieldsMap().containsKey("reason")) {
              reason = first.getStructValue().getFieldsMap().get("reason").getStringValue();
            }
          }
        }
      } catch (InvalidProtocolBufferException | RuntimeException notJson) {
        // not GCE's JSON (a proxy's HTML page, say): keep the client's message
      }
    }
    return new HttpError(status, reason, message, retryAfter);
  }

  /** Maps a failed call. */
  static ProviderException fromCall(String providerId, String zone, ApiException e) {
    HttpError h = describe(e);
    String code = !h.reason().isEmpty() ? h.reason() : h.status() != 0 ? Integer.toString(h.status()) : e.getStatusCode().getCode().name();
    String message = h.message();
    if (h.status() == 429 || h.reason().equals("rateLimitExceeded") || h.reason().equals("userRateLimitExceeded")) {
      return new ProviderException.Throttled(providerId, zone, retryAfter(h.retryAfter()), code, message, e);
    }
    if (h.reason().equals("quotaExceeded") || QUOTA_NAME.matcher(message).find()) {
      return new ProviderException.QuotaExceeded(providerId, zone, quotaScope(message, null), code, message, e);
    }
    if (h.status() == 401) {
      return new ProviderException.PermissionDenied(providerId, zone, true, code, message, e);
    }
    if (h.status() == 403) {
      return new ProviderException.PermissionDenied(providerId, zone, false, code, message, e);
    }
    if (h.status() == 400 || h.status() == 404 || h.status() == 409 || h.status() == 412) {
      return new ProviderException.InvalidRequest(providerId, zone, code, message, e);
    }
    if (h.status() == 0 && e.getStatusCode().getCode() == StatusCode.Code.UNAUTHENTICATED) {
      return new ProviderException.PermissionDenied(providerId, zone, true, code, message, e);
    }
    // 5xx, 408, timeouts, connection failures and anything unrecognised: transient.
    return new ProviderException.Transient(providerId, zone, code, message, e);
  }

  /**
   * Whether a DONE operation failed: it has {@code error.errors[]} (the client reports such an
   * operation as a success when it has no HTTP error status) or an HTTP error status.
   */
  static boolean failed(Operation op) {
    return op.getStatus() == Operation.Status.DONE
        && (op.getError().getErrorsCount() > 0 || op.getHttpErrorStatusCode() >= 400);
  }

  /** Maps the error of a {@link #failed} operation. */
  static ProviderException fromOperation(String providerId, String zone, Operation op) {
    if (op.getError().getErrorsCount() == 0) {
      int http = op.getHttpErrorStatusCode();
      String code = "HTTP_" + http;
      String message = op.getHttpErrorMessage();
      if (http == 429) {
        return new ProviderException.Throttled(providerId, zone, null, code, message, null);
      }
      if (http == 401 || http == 403) {
        return new ProviderException.PermissionDenied(providerId, zone, http == 401, code, message, null);
      }
      if (http == 400 || http == 404 || http == 409) {
        return new ProviderException.InvalidRequest(providerId, zone, code, message, null);
      }
      return new ProviderException.Transient(providerId, zone, code, message, null);
    }
    Errors first = op.getError().getErrors(0);
    String code = first.getCode();
    String message = first.getMessage();
    for (ErrorDetails d : first.getErrorDetailsList()) {
      if (d.hasLocalizedMessage() && !d.getLocalizedMessage().getMessage().isEmpty()) {
        message = message + " " + d.getLocalizedMessage().getMessage();
        break;
      }
    }
    if (op.getError().getErrorsCount() > 1) {
      message = message + " (and " + (op.getError().getErrorsCount() - 1) + " more errors)";
    }
    String upper = code.toUpperCase(Locale.ROOT);
    if (upper.contains("RESOURCE_POOL_EXHAUSTED") || upper.equals("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
        || upper.equals("RESOURCE_NOT_AVAILABLE")) {
      return new ProviderException.CapacityUnavailable(providerId, zone, code, message, null);
    }
    if (upper.equals("QUOTA_EXCEEDED") || upper.endsWith("QUOTA_EXCEEDED")) {
      String quotaMetric = null;
      for (ErrorDetails d : first.getErrorDetailsList()) {
        if (d.hasQuotaInfo()) {
          quotaMetric = d.getQuotaInfo().getMetricName() + " " + d.getQuotaInfo().getLimitName()
              + (d.getQuotaInfo().containsDimensions("region") ? " region" : "");
        }
      }
      return new ProviderException.QuotaExceeded(providerId, zone, quotaScope(message, quotaMetric), code, message, null);
    }
    if (upper.equals("RATE_LIMIT_EXCEEDED")) {
      return new ProviderException.Throttled(providerId, zone, null, code, message, null);
    }
    int http = op.getHttpErrorStatusCode();
    if (upper.contains("PERMISSION") || upper.equals("FORBIDDEN") || http == 403) {
      return new ProviderException.PermissionDenied(providerId, zone, false, code, message, null);
    }
    if (upper.startsWith("INVALID") || upper.contains("NOT_FOUND") || upper.equals("BAD_REQUEST")
        || upper.equals("ALREADY_EXISTS") || upper.contains("UNSUPPORTED") || http == 400 || http == 404) {
      return new ProviderException.InvalidRequest(providerId, zone, code, message, null);
    }
    return new ProviderException.Transient(providerId, zone, code, message, null);
  }

  /**
   * How far a quota reaches: the GPUS_ALL_REGIONS family (and any quota GCE calls global) blocks
   * every region of the provider; GCE's GPU quotas are otherwise per region.
   */
  static Scope quotaScope(String message, String quotaMetric) {
    Matcher m = QUOTA_NAME.matcher(message);
    String name = (m.find() ? m.group(1) : "") + " " + (quotaMetric == null ? "" : quotaMetric);
    String n = name.toUpperCase(Locale.ROOT).replace('-', '_');
    if (n.contains("ALL_REGIONS")) {
      return Scope.PROVIDER;
    }
    if (quotaMetric != null && quotaMetric.endsWith(" region")) {
      return Scope.REGION;
    }
    if (message.contains("globally")) {
      return Scope.PROVIDER;
    }
    return Scope.REGION;
  }

  private static Duration retryAfter(String header) {
    if (header == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Long.parseLong(header.trim()));
    } catch (NumberFormatException e) {
      return null; // an HTTP date: rare from GCE; the engine's backoff applies
    }
  }
}
