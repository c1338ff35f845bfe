/**
 * A local emulator of the Compute Engine REST API ({@code compute/v1}: instances insert, get,
 * delete, list and getGuestAttributes; zone operations get and wait) that the real {@code
 * InstancesClient} and {@code ZoneOperationsClient} talk to over plain HTTP, driven by the shared
 * {@link dev.acceldispatch.testkit.cloud.CloudModel}. Public API: {@link
 * dev.acceldispatch.testkit.emulator.gce.GceEmulator}; everything else is package-private.
 */
package dev.acceldispatch.testkit.emulator.gce;
