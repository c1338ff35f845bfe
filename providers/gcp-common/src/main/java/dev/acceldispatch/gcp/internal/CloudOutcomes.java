package dev.acceldispatch.gcp.internal;

import dev.acceldispatch.Workload;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ResourceStatus;
import java.util.Map;

/** The rules both Google providers apply to what the cloud said and to what a machine can reach. */
public final class CloudOutcomes {
  private CloudOutcomes() {}

  /**
   * What {@code status} reports for a cloud error that ended a create: capacity, quota and
   * throttling are thrown, as the {@code Provider.status} contract allows (the engine fails over or
   * waits); anything else (INVALID_ARGUMENT, PERMISSION_DENIED, UNSUPPORTED_OPERATION, ...) ends the
   * attempt with exit code -1 and the cloud's code and message, in the detail and in the
   * attributes {@code cloudCode} and {@code cloudMessage}.
   */
  public static ResourceStatus terminal(ProviderException e, String words) {
    if (e instanceof ProviderException.CapacityUnavailable || e instanceof ProviderException.QuotaExceeded
        || e instanceof ProviderException.Throttled) {
      throw e;
    }
    return new ResourceStatus(ResourceStatus.Phase.FAILED, -1, words + ": " + e.cloudCode() + " " + e.cloudMessage(),
        Map.of("cloudCode", e.cloudCode(), "cloudMessage", e.cloudMessage()));
  }

  /**
   * Checks at build that machines without an external IP have a declared egress.
   *
   * @throws IllegalStateException naming the field {@code egress} when they have none
   */
  public static void requireDeclaredEgress(boolean externalIp, NetworkEgress egress, String machines) {
    if (!externalIp && egress == null) {
      throw new IllegalStateException("egress: " + machines + " have no external IP (externalIp(false), the default), so"
          + " their subnet must provide egress to pull images; declare egress(NetworkEgress.CLOUD_NAT) or"
          + " egress(NetworkEgress.PRIVATE_GOOGLE_ACCESS), or set externalIp(true)");
    }
  }

  /**
   * Refuses, before any call, a container whose image the machine's network cannot reach: it could
   * never start.
   *
   * @throws ProviderException.InvalidRequest code {@code EGRESS_UNAVAILABLE}
   */
  public static void requireReachableImage(String providerId, String zone, boolean externalIp, NetworkEgress egress, Workload w) {
    if (!externalIp && w.kind() == Workload.Kind.CONTAINER && !egress.canPull(w.image())) {
      throw new ProviderException.InvalidRequest(providerId, zone, "EGRESS_UNAVAILABLE",
          "image '" + w.image() + "' cannot be pulled: the machines have no external IP and the subnet declares "
              + egress + " egress, which reaches only Artifact Registry (*-docker.pkg.dev) and gcr.io;"
              + " use such an image, declare egress(NetworkEgress.CLOUD_NAT), or externalIp(true)", null);
    }
  }
}
