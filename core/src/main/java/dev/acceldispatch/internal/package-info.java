/**
 * The dispatch engine. Not API: nothing here is stable, and nothing outside this library should
 * use it.
 */
package dev.acceldispatch.internal;
