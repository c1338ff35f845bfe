package dev.acceldispatch.jdbc;

/** Secrets at rest on an in-memory H2 database, which outlives each store built on it. */
class H2SecretsAtRestTest extends SecretsAtRestTest {
  @Override
  Databases.Fresh freshDatabase() {
    return Databases.Fresh.h2();
  }
}
