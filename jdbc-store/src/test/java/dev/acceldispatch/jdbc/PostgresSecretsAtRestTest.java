package dev.acceldispatch.jdbc;

/** Secrets at rest on the local PostgreSQL, in a fresh schema per test. */
class PostgresSecretsAtRestTest extends SecretsAtRestTest {
  @Override
  Databases.Fresh freshDatabase() {
    return Databases.Fresh.postgres(6);
  }
}
