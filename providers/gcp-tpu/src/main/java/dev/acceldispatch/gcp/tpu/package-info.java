/**
 * Google Cloud TPU v5e slices for AccelDispatch, through the Cloud TPU API v2 queued resources and
 * the official {@code com.google.cloud:google-cloud-tpu} client ({@code TpuClient}).
 *
 * <p>Public API: {@link dev.acceldispatch.gcp.tpu.GcpTpuProvider} and its {@link
 * dev.acceldispatch.gcp.tpu.GcpTpuProvider.Builder}. Every other type in this package is
 * package-private.
 */
package dev.acceldispatch.gcp.tpu;
