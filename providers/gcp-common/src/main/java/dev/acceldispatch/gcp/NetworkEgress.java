package dev.acceldispatch.gcp;

import java.util.Locale;

/**
 * How machines without an external IP reach what their workload needs: pulling its container image
 * and, for secrets, Secret Manager. (The exit code goes to the metadata server, which every VM
 * reaches without egress.) A Google provider built with {@code externalIp(false)}, the default,
 * must be told which one the subnet provides, because a VM with neither cannot pull anything and
 * its job could never start.
 *
 * <p>Sources: "VMs without external IP addresses" can reach the internet only through Cloud NAT,
 * and Google APIs through Private Google Access (cloud.google.com/vpc/docs/private-google-access,
 * cloud.google.com/nat/docs/overview); Artifact Registry and Container Registry are Google APIs
 * reachable through Private Google Access (cloud.google.com/artifact-registry/docs/networking).
 */
public enum NetworkEgress {
  /** The subnet's region has a Cloud NAT gateway: any registry is reachable. */
  CLOUD_NAT,
  /**
   * The subnet has Private Google Access: only Google APIs are reachable, so only images in
   * Artifact Registry ({@code *-docker.pkg.dev}) or Container Registry ({@code gcr.io}) can be
   * pulled.
   */
  PRIVATE_GOOGLE_ACCESS;

  /** Whether a machine with this egress can pull {@code image}. */
  public boolean canPull(String image) {
    if (this == CLOUD_NAT) {
      return true;
    }
    String host = image.contains("/") ? image.substring(0, image.indexOf('/')).toLowerCase(Locale.ROOT) : "";
    return host.endsWith("-docker.pkg.dev") || host.equals("gcr.io") || host.endsWith(".gcr.io");
  }
}
