package dev.acceldispatch.azure.gpu;

import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.management.exception.ManagementError;
import com.azure.core.management.exception.ManagementException;
import dev.acceldispatch.spi.ProviderException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Maps Azure Resource Manager errors (HTTP status, {@code error.code}, {@code error.message}) to
 * {@link ProviderException}s, keeping the cloud's code and message. The one place that knows
 * which Azure codes mean what.
 */
final class AzureErrors {
  /** Codes that mean "no capacity for this size here now". */
  static final Set<String> CAPACITY_CODES =
      Set.of(
          "allocationfailed", "zonalallocationfailed", "overconstrainedallocationrequest",
          "overconstrainedzonalallocationrequest", "skunotavailable");

  private AzureErrors() {}

  /**
   * Maps one error.
   *
   * @param httpStatus the HTTP status, or 0 for an error read from an async-operation body
   * @param retryAfter the Retry-After the response carried, or null
   */
  static ProviderException map(
      String providerId, String region, int httpStatus, String code, String message, Duration retryAfter, Throwable cause) {
    String c = code == null ? "" : code;
    String lc = c.toLowerCase(Locale.ROOT);
    String m = message == null ? "" : message;
    if (CAPACITY_CODES.contains(lc)) {
      return new ProviderException.CapacityUnavailable(providerId, region, c, m, cause);
    }
    if (lc.equals("quotaexceeded")
        || (lc.equals("operationnotallowed") && m.toLowerCase(Locale.ROOT).contains("quota"))) {
      // Azure's cores quotas are per subscription, region and VM family.
      return new ProviderException.QuotaExceeded(providerId, region, ProviderException.QuotaExceeded.Scope.REGION, c, m, cause);
    }
    if (httpStatus == 429) {
      return new ProviderException.Throttled(providerId, region, retryAfter, c.isEmpty() ? "TooManyRequests" : c, m, cause);
    }
    if (httpStatus == 401 || lc.equals("authenticationfailed") || lc.equals("invalidauthenticationtoken")
        || lc.equals("expiredauthenticationtoken")) {
      return new ProviderException.PermissionDenied(providerId, region, true, c, m, cause);
    }
    if (httpStatus == 403 || lc.equals("authorizationfailed") || lc.equals("linkedauthorizationfailed")) {
      return new ProviderException.PermissionDenied(providerId, region, false, c, m, cause);
    }
    if (httpStatus == 400 || (httpStatus == 404 && !lc.isEmpty())) {
      return new ProviderException.InvalidRequest(providerId, region, c, m, cause);
    }
    // 5xx, 409 conflicts, unknown codes: may pass.
    return new ProviderException.Transient(providerId, region, c.isEmpty() ? "HTTP " + httpStatus : c, m, cause);
  }

  /** Maps a failure the SDK threw (ManagementException, I/O, timeout) to a ProviderException. */
  static ProviderException fromThrowable(String providerId, String region, Throwable t, Clock clock) {
    Throwable e = unwrap(t);
    if (e instanceof ProviderException pe) {
      return pe;
    }
    if (e instanceof ManagementException me) {
      ManagementError v = me.getValue();
      int status = me.getResponse() == null ? 0 : me.getResponse().getStatusCode();
      return map(providerId, region, status, v == null ? null : v.getCode(), v == null ? me.getMessage() : v.getMessage(),
          me.getResponse() == null ? null : retryAfter(me.getResponse().getHeaders(), clock), me);
    }
    if (e instanceof HttpResponseException he) {
      int status = he.getResponse() == null ? 0 : he.getResponse().getStatusCode();
      return map(providerId, region, status, null, he.getMessage(),
          he.getResponse() == null ? null : retryAfter(he.getResponse().getHeaders(), clock), he);
    }
    if (e instanceof TimeoutException || (e instanceof IllegalStateException && String.valueOf(e.getMessage()).startsWith("Timeout"))) {
      return new ProviderException.Transient(providerId, region, "Timeout", String.valueOf(e.getMessage()), e);
    }
    return new ProviderException.Transient(providerId, region, e.getClass().getSimpleName(), String.valueOf(e.getMessage()), e);
  }

  /** Whether the SDK failure is ARM's 404 (the resource does not exist). */
  static boolean isNotFound(Throwable t) {
    Throwable e = unwrap(t);
    return e instanceof HttpResponseException he && he.getResponse() != null && he.getResponse().getStatusCode() == 404;
  }

  /** Whether the SDK failure has this HTTP status. */
  static boolean hasStatus(Throwable t, int status) {
    Throwable e = unwrap(t);
    return e instanceof HttpResponseException he && he.getResponse() != null && he.getResponse().getStatusCode() == status;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while (e.getCause() != null && !(e instanceof HttpResponseException)
        && (e.getClass().getName().startsWith("reactor.") || e instanceof java.util.concurrent.CompletionException
            || e.getClass() == RuntimeException.class)) {
      e = e.getCause();
    }
    return e;
  }

  /** The wait a response asks for: {@code retry-after-ms}, {@code x-ms-retry-after-ms} or {@code Retry-After}. */
  static Duration retryAfter(HttpHeaders headers, Clock clock) {
    if (headers == null) {
      return null;
    }
    for (String ms : new String[] {"retry-after-ms", "x-ms-retry-after-ms"}) {
      String v = headers.getValue(HttpHeaderName.fromString(ms));
      if (v != null) {
        try {
          return Duration.ofMillis(Long.parseLong(v.trim()));
        } catch (NumberFormatException ignored) {
          // fall through to the next header
        }
      }
    }
    String v = headers.getValue(HttpHeaderName.RETRY_AFTER);
    if (v == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Long.parseLong(v.trim()));
    } catch (NumberFormatException notSeconds) {
      try {
        OffsetDateTime at = OffsetDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(clock.instant(), at.toInstant());
        return d.isNegative() ? Duration.ZERO : d;
      } catch (RuntimeException unparsable) {
        return null;
      }
    }
  }
}
