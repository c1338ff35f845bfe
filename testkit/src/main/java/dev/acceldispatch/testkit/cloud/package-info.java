/**
 * The one model of "a cloud" behind every emulator, the fake provider and the bench simulator:
 * {@link dev.acceldispatch.testkit.cloud.CloudModel} (capacity per zone and pool over time,
 * stockouts, quotas, provisioning latency, planned workloads, spot preemptions, injected
 * {@link dev.acceldispatch.testkit.cloud.Fault}s, a record of every call), and {@link
 * dev.acceldispatch.testkit.cloud.ScriptSandbox}, which runs a provider's real startup script with
 * fake {@code docker} and {@code curl} the way the cloud machine would.
 */
package dev.acceldispatch.testkit.cloud;
