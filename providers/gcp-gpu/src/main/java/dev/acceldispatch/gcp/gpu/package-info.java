/**
 * Google Cloud GPU virtual machines through Compute Engine, on the host's own {@code
 * InstancesClient} and {@code ZoneOperationsClient}. Public API: {@link
 * dev.acceldispatch.gcp.gpu.GcpGpuProvider} with its builder, and the settings types {@link
 * dev.acceldispatch.gcp.gpu.GpuMachineType} (the machine-type table) and {@link
 * dev.acceldispatch.gcp.gpu.GceApiQuotas} (the API rate quotas). Everything else in this package
 * is package-private.
 */
package dev.acceldispatch.gcp.gpu;
