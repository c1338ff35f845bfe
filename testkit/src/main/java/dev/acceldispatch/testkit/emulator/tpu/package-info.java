/**
 * A local emulator of the Cloud TPU API v2 ({@code google.cloud.tpu.v2.Tpu} queued resources,
 * nodes and guest attributes, plus {@code google.longrunning.Operations/GetOperation}) that the
 * real {@code TpuClient} talks to over plaintext gRPC, driven by a
 * {@link dev.acceldispatch.testkit.cloud.CloudModel}. {@link
 * dev.acceldispatch.testkit.emulator.tpu.TpuEmulator} is the public entry point; everything else
 * here is package-private.
 */
package dev.acceldispatch.testkit.emulator.tpu;
