/**
 * The Azure GPU provider: GPU virtual machines through Azure Resource Manager with the {@code
 * azure-resourcemanager-compute} client.
 *
 * <p>Public API: {@link dev.acceldispatch.azure.gpu.AzureGpuProvider} with its builder, and the
 * settings type {@link dev.acceldispatch.azure.gpu.ArmRateLimits}. Every other type in this package
 * is package-private.
 */
package dev.acceldispatch.azure.gpu;
