package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Error;
import com.google.cloud.compute.v1.ErrorDetails;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.QuotaExceededInfo;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderException.QuotaExceeded.Scope;
import org.junit.jupiter.api.Test;

/** Operation errors as GCE documents them (cloud-api-facts.md B5), mapped without an emulator. */
class GceErrorsTest {

  private static Operation done(String code, String message, ErrorDetails... details) {
    Errors.Builder e = Errors.newBuilder().setCode(code).setMessage(message);
    for (ErrorDetails d : details) {
      e.addErrorDetails(d);
    }
    return Operation.newBuilder().setStatus(Operation.Status.DONE).setError(Error.newBuilder().addErrors(e)).build();
  }

  @Test
  void fromOperation_zoneResourcePoolExhausted_isCapacity() {
    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-b",
        done("ZONE_RESOURCE_POOL_EXHAUSTED", "The zone 'projects/p/zones/us-central1-b' does not have enough resources available to fulfill the request."));

    assertThat(e).isInstanceOf(ProviderException.CapacityUnavailable.class);
    assertThat(e.cloudCode()).isEqualTo("ZONE_RESOURCE_POOL_EXHAUSTED");
    assertThat(e.cloudMessage()).contains("does not have enough resources");
  }

  @Test
  void fromOperation_quotaWithAllRegionsQuotaInfo_isProviderWide() {
    ErrorDetails info = ErrorDetails.newBuilder().setQuotaInfo(QuotaExceededInfo.newBuilder()
        .setMetricName("compute.googleapis.com/gpus_all_regions").setLimitName("GPUS-ALL-REGIONS-per-project").setLimit(0)).build();

    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-a",
        done("QUOTA_EXCEEDED", "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.", info));

    assertThat(e).isInstanceOf(ProviderException.QuotaExceeded.class);
    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.PROVIDER);
  }

  @Test
  void fromOperation_regionalGpuQuota_isRegional() {
    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-a",
        done("QUOTA_EXCEEDED", "Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 1.0 in region us-central1."));

    assertThat(((ProviderException.QuotaExceeded) e).scope()).isEqualTo(Scope.REGION);
  }

  @Test
  void fromOperation_unknownCode_isTransientWithTheCloudsWords() {
    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-a", done("SOMETHING_NEW", "a new failure"));

    assertThat(e).isInstanceOf(ProviderException.Transient.class);
    assertThat(e.cloudCode()).isEqualTo("SOMETHING_NEW");
    assertThat(e.cloudMessage()).isEqualTo("a new failure");
  }

  @Test
  void fromOperation_invalidField_isInvalidRequest() {
    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-a",
        done("INVALID_FIELD_VALUE", "Invalid value for field 'resource.machineType'"));

    assertThat(e).isInstanceOf(ProviderException.InvalidRequest.class);
  }

  @Test
  void failed_doneWithErrorsButNoHttpStatus_isAFailure_whileCleanDoneIsNot() {
    Operation withError = done("ZONE_RESOURCE_POOL_EXHAUSTED", "x");
    Operation clean = Operation.newBuilder().setStatus(Operation.Status.DONE).build();
    Operation running = withError.toBuilder().setStatus(Operation.Status.RUNNING).build();

    assertThat(GceErrors.failed(withError)).isTrue();
    assertThat(GceErrors.failed(clean)).isFalse();
    assertThat(GceErrors.failed(running)).isFalse();
  }

  @Test
  void fromOperation_onlyAnHttpErrorStatus_isMappedByThatStatus() {
    Operation op = Operation.newBuilder().setStatus(Operation.Status.DONE)
        .setHttpErrorStatusCode(503).setHttpErrorMessage("SERVICE UNAVAILABLE").build();

    ProviderException e = GceErrors.fromOperation("gcp-gpu", "us-central1-a", op);

    assertThat(GceErrors.failed(op)).isTrue();
    assertThat(e).isInstanceOf(ProviderException.Transient.class);
    assertThat(e.cloudCode()).isEqualTo("HTTP_503");
    assertThat(e.cloudMessage()).isEqualTo("SERVICE UNAVAILABLE");
  }
}
