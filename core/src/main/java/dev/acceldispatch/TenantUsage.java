package dev.acceldispatch;

/**
 * What one tenant has used so far.
 *
 * @param tenant the tenant
 * @param spent the cost of every ended attempt plus what live attempts have cost so far
 * @param acceleratorHours accelerator-hours held, the fair-share measure
 * @param devicesInUse accelerators held right now
 * @param hourlySpend what the tenant's live attempts cost per hour
 * @param queuedJobs jobs waiting for placement
 */
public record TenantUsage(
    String tenant, Money spent, double acceleratorHours, int devicesInUse, Money hourlySpend, int queuedJobs) {}
