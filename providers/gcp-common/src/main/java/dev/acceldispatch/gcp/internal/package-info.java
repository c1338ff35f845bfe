/**
 * Not API: what the two Google providers ({@code gcp-tpu}, {@code gcp-gpu}) share so that they
 * agree, namely one label and name function, zone to region, single-attempt call settings, the
 * exit reporter of the startup script, and request ids. Public only because two modules use it;
 * it may change in any release.
 */
package dev.acceldispatch.gcp.internal;
