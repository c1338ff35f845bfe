/**
 * Events the dispatcher emits for every job transition, attempt, failover and release, and the
 * listener interface that receives them. Public API.
 */
package dev.acceldispatch.event;
