/**
 * A local emulator of the Azure Resource Manager virtual-machine API ({@code Microsoft.Compute}
 * api-version 2025-04-01), driven by the shared {@link dev.acceldispatch.testkit.cloud.CloudModel},
 * for the real {@code azure-resourcemanager-compute} client to talk to over plain HTTP.
 *
 * <p>{@link dev.acceldispatch.testkit.emulator.azure.AzureEmulator} is the only public type; its
 * Javadoc lists the paths served, the JSON shapes, the error bodies and the headers.
 */
package dev.acceldispatch.testkit.emulator.azure;
