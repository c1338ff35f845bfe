/**
 * What you test an integration with: {@link dev.acceldispatch.testkit.FakeProvider} (an in-process
 * provider on a {@link dev.acceldispatch.testkit.cloud.CloudModel}), {@link
 * dev.acceldispatch.testkit.ManualScheduler} and {@link dev.acceldispatch.testkit.ManualClock}
 * (virtual time: hours of cloud time in milliseconds), {@link
 * dev.acceldispatch.testkit.RecordingListener} (every event, in order), {@link
 * dev.acceldispatch.testkit.Await} (polling for tests that run in real time against an emulator),
 * and the abstract provider contract tests ({@link dev.acceldispatch.testkit.ProviderContractTest},
 * {@link dev.acceldispatch.testkit.CloudProviderContractTest}) that every provider module extends.
 * The cloud emulators are in the {@code emulator} subpackages.
 */
package dev.acceldispatch.testkit;
