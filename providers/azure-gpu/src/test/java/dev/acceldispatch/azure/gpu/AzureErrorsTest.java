package dev.acceldispatch.azure.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import dev.acceldispatch.spi.ProviderException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The mapping, with the payloads Azure documents (shared/reference/cloud-api-facts.md C4). */
class AzureErrorsTest {
  private static ProviderException map(int status, String code, String message) {
    return AzureErrors.map("azure-gpu", "eastus", status, code, message, null, null);
  }

  @Test
  void map_allocationFailedFromAsyncBody_isCapacity() {
    ProviderException e = map(0, "AllocationFailed",
        "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.");
    assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
    assertThat(e.cloudCode()).isEqualTo("AllocationFailed");
    assertThat(e.zone()).contains("eastus");
  }

  @Test
  void map_skuNotAvailableOn409_isCapacity() {
    assertThat(map(409, "SkuNotAvailable", "The requested size for resource '/subscriptions/s/...' is currently not available"))
        .isInstanceOf(ProviderException.CapacityUnavailable.class);
  }

  @Test
  void map_operationNotAllowedWithCoresQuotaMessage_isRegionalQuota() {
    ProviderException e = map(409, "OperationNotAllowed",
        "Operation could not be completed as it results in exceeding approved Standard NCASv3_T4 Family Cores quota."
            + " Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 0,"
            + " Current Usage: 0, Additional Required: 4, (Minimum) New Limit Required: 4.");
    assertThat(e).isInstanceOfSatisfying(ProviderException.QuotaExceeded.class,
        q -> assertThat(q.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.REGION));
  }

  @Test
  void map_operationNotAllowedOtherwise_isNotQuota() {
    assertThat(map(409, "OperationNotAllowed", "Operation 'start' is not allowed since the VM is marked for deletion."))
        .isInstanceOf(ProviderException.Transient.class);
  }

  @Test
  void map_429_isThrottledWithRetryAfter() {
    ProviderException e = AzureErrors.map("azure-gpu", "eastus", 429, "SubscriptionRequestsThrottled", "try later",
        Duration.ofSeconds(17), null);
    assertThat(e).isInstanceOfSatisfying(ProviderException.Throttled.class,
        t -> assertThat(t.retryAfter()).contains(Duration.ofSeconds(17)));
  }

  @Test
  void map_authErrors_arePermissionDenied() {
    assertThat(map(403, "AuthorizationFailed", "The client 'x' does not have authorization"))
        .isInstanceOfSatisfying(ProviderException.PermissionDenied.class, p -> assertThat(p.unauthenticated()).isFalse());
    assertThat(map(401, "InvalidAuthenticationToken", "The access token is invalid."))
        .isInstanceOfSatisfying(ProviderException.PermissionDenied.class, p -> assertThat(p.unauthenticated()).isTrue());
  }

  @Test
  void map_badRequest_isInvalid_and5xxOrUnknown_isTransient() {
    assertThat(map(400, "InvalidParameter", "The value of parameter imageReference is invalid."))
        .isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(map(503, "ServiceUnavailable", "later")).isInstanceOf(ProviderException.Transient.class);
    assertThat(map(500, "", "")).isInstanceOf(ProviderException.Transient.class)
        .satisfies(e -> assertThat(e.cloudCode()).isEqualTo("HTTP 500"));
    assertThat(map(0, "SomethingNew", "?")).isInstanceOf(ProviderException.Transient.class);
  }

  @Test
  void retryAfter_secondsMillisecondsOrHttpDate_areReadAgainstTheGivenClock() {
    java.time.Clock clock = java.time.Clock.fixed(java.time.Instant.parse("2026-01-01T00:00:00Z"), java.time.ZoneOffset.UTC);
    assertThat(AzureErrors.retryAfter(new HttpHeaders().set(HttpHeaderName.RETRY_AFTER, "12"), clock)).isEqualTo(Duration.ofSeconds(12));
    assertThat(AzureErrors.retryAfter(new HttpHeaders().set(HttpHeaderName.fromString("x-ms-retry-after-ms"), "1500"), clock))
        .isEqualTo(Duration.ofMillis(1500));
    assertThat(AzureErrors.retryAfter(new HttpHeaders().set(HttpHeaderName.RETRY_AFTER, "Thu, 01 Jan 2026 00:00:30 GMT"), clock))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(AzureErrors.retryAfter(new HttpHeaders(), clock)).isNull();
  }
}
