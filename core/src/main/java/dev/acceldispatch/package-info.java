/**
 * The public API: describe a job ({@link dev.acceldispatch.JobSpec}, accelerator shapes,
 * workloads), build a {@link dev.acceldispatch.Dispatcher} with the providers you wire, submit,
 * plan and follow jobs. Everything in {@code dev.acceldispatch.internal} is not API and may change
 * at any time.
 */
package dev.acceldispatch;
