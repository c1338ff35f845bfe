package dev.acceldispatch.jdbc;

/** Start-up checks on the local PostgreSQL, in a fresh schema per test. */
class PostgresStartupChecksTest extends StartupChecksTest {
  @Override
  Databases.Fresh freshDatabase() {
    return Databases.Fresh.postgres(4);
  }
}
