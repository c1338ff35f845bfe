/**
 * The dispatcher's metrics for Micrometer: {@link dev.acceldispatch.micrometer.DispatchMetrics}
 * records jobs per tenant, attempts, failovers, preemptions, time to start, run time, cost, offer
 * blocks and provider calls into a {@code MeterRegistry}. Public API; the other classes here are
 * package-private.
 */
package dev.acceldispatch.micrometer;
