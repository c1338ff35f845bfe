/**
 * Dispatcher metrics for Micrometer: {@link dev.acceldispatch.samples.metrics.DispatchMetrics} is a
 * listener that turns events into counters and timers. A sample, not a published module: copy it,
 * or ask for it to be published.
 */
package dev.acceldispatch.samples.metrics;
