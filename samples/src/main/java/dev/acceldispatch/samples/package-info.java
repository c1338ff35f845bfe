/**
 * Runnable programs for newcomers: {@link dev.acceldispatch.samples.Demo} (the README's first
 * command: three emulated clouds and this machine under one dispatcher), {@link
 * dev.acceldispatch.samples.QuickStart} (one job, one provider), {@link
 * dev.acceldispatch.samples.RealClouds} (wiring the providers to real clouds) and {@link
 * dev.acceldispatch.samples.FineTuneService} (host code that its test exercises with the testkit).
 * Not published.
 */
package dev.acceldispatch.samples;
