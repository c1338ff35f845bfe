package dev.acceldispatch.gcp.tpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.acceldispatch.spi.ProviderException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The mapping of Cloud TPU error payloads (as the API documents and returns them) onto the SPI. */
class TpuErrorsTest {
  private static ProviderException map(int code, String message) {
    return TpuErrors.fromStatus("gcp-tpu", "us-west4-a",
        com.google.rpc.Status.newBuilder().setCode(code).setMessage(message).build());
  }

  @Test
  void fromStatus_quotaLimitExceeded_isZoneQuotaWithTheCloudsWords() {
    String msg = "Quota limit 'TPUV5sLitepodServingPerProjectPerZoneForTPUAPI' has been exceeded.";
    ProviderException e = map(Code.RESOURCE_EXHAUSTED_VALUE, msg);
    assertThat(e).isInstanceOfSatisfying(ProviderException.QuotaExceeded.class,
        q -> assertThat(q.scope()).isEqualTo(ProviderException.QuotaExceeded.Scope.ZONE));
    assertThat(e.cloudCode()).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(e.cloudMessage()).isEqualTo(msg);
  }

  @Test
  void fromStatus_noMoreCapacity_isCapacityUnavailable() {
    assertThat(map(Code.RESOURCE_EXHAUSTED_VALUE, "There is no more capacity in the zone \"us-west4-a\"; you can try in"
        + " another zone where Cloud TPU Nodes are offered (see https://cloud.google.com/tpu/docs/regions)"))
        .isInstanceOf(ProviderException.CapacityUnavailable.class);
  }

  @Test
  void fromStatus_rateLimitWithRetryInfo_isThrottledWithRetryAfter() {
    com.google.rpc.Status st = com.google.rpc.Status.newBuilder().setCode(Code.RESOURCE_EXHAUSTED_VALUE)
        .setMessage("Quota exceeded for quota metric 'Requests' and limit 'Requests per minute'")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("RATE_LIMIT_EXCEEDED").build()))
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(4)).build()))
        .build();
    ProviderException e = TpuErrors.fromStatus("gcp-tpu", null, st);
    assertThat(e).isInstanceOfSatisfying(ProviderException.Throttled.class,
        t -> assertThat(t.retryAfter()).contains(Duration.ofSeconds(4)));
  }

  @Test
  void fromStatus_otherCodes_followTheTaxonomy() {
    assertThat(map(Code.UNAVAILABLE_VALUE, "The service is currently unavailable.")).isInstanceOf(ProviderException.Transient.class);
    assertThat(map(Code.DEADLINE_EXCEEDED_VALUE, "Deadline exceeded.")).isInstanceOf(ProviderException.Transient.class);
    assertThat(map(Code.INTERNAL_VALUE, "Internal error encountered.")).isInstanceOf(ProviderException.Transient.class);
    assertThat(map(Code.INVALID_ARGUMENT_VALUE, "Invalid runtime version")).isInstanceOf(ProviderException.InvalidRequest.class);
    assertThat(map(Code.PERMISSION_DENIED_VALUE, "Permission 'tpu.queuedResources.create' denied"))
        .isInstanceOfSatisfying(ProviderException.PermissionDenied.class, p -> assertThat(p.unauthenticated()).isFalse());
    assertThat(map(Code.UNAUTHENTICATED_VALUE, "Request had invalid authentication credentials."))
        .isInstanceOfSatisfying(ProviderException.PermissionDenied.class, p -> assertThat(p.unauthenticated()).isTrue());
    assertThat(map(99, "something new")).isInstanceOf(ProviderException.Transient.class);
  }
}
