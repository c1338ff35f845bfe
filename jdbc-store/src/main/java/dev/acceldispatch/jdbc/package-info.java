/**
 * A durable {@link dev.acceldispatch.spi.JobStore} on JDBC: {@link
 * dev.acceldispatch.jdbc.JdbcJobStore} for PostgreSQL (several dispatchers share it through row
 * leases) and H2 (the embedded durable default). The public API is {@link
 * dev.acceldispatch.jdbc.JdbcJobStore}, its builder, {@link dev.acceldispatch.jdbc.SecretKeyRing}
 * (the keys literal secret values are encrypted with) and {@link
 * dev.acceldispatch.jdbc.JdbcStoreException}; {@code dev.acceldispatch.jdbc.internal} is not API.
 */
package dev.acceldispatch.jdbc;
