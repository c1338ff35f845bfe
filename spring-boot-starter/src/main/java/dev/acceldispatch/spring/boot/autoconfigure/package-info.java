/**
 * The starter's auto-configuration: a {@code Dispatcher} bean from the {@code acceldispatch.*}
 * properties, its providers, store, metrics and Actuator health. The auto-configuration classes are
 * public so that an application can name them in {@code exclude}; every other class here is
 * package-private.
 */
package dev.acceldispatch.spring.boot.autoconfigure;
