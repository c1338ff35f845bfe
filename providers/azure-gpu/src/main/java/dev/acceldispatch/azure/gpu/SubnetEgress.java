package dev.acceldispatch.azure.gpu;

/**
 * How VMs on the configured subnets reach the internet without a public IP of their own. A VM
 * needs outbound access twice: to pull the workload's image and to report its exit code to Azure
 * Resource Manager ({@code management.azure.com}); IMDS ({@code 169.254.169.254}) is reached
 * without egress. New virtual networks no longer get implicit "default outbound access"
 * (MicrosoftDocs/azure-docs {@code articles/virtual-network/ip-services/default-outbound-access.md}),
 * so the host declares what its network provides; see the provider's README.
 */
public enum SubnetEgress {
  /** A NAT gateway attached to the subnet (the documented recommended outbound method). */
  NAT_GATEWAY,
  /** A route table sending 0.0.0.0/0 to Azure Firewall or a network virtual appliance. */
  FIREWALL,
  /** Outbound rules of a Standard load balancer whose backend pool holds the VMs' NICs. */
  LOAD_BALANCER_OUTBOUND_RULES,
  /**
   * No internet: private endpoints for the registry the images come from and an Azure Resource
   * Manager private link for the tag write, with their private DNS zones.
   */
  PRIVATE_ENDPOINTS
}
