/**
 * Spring Boot support for AccelDispatch: the {@code acceldispatch.*} properties and the
 * {@link dev.acceldispatch.spring.boot.DispatcherCustomizer} hook. Public API; the
 * auto-configuration itself is in {@code dev.acceldispatch.spring.boot.autoconfigure}.
 */
package dev.acceldispatch.spring.boot;
