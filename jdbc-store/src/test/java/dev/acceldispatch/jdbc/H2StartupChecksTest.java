package dev.acceldispatch.jdbc;

/** Start-up checks on an in-memory H2 database. */
class H2StartupChecksTest extends StartupChecksTest {
  @Override
  Databases.Fresh freshDatabase() {
    return Databases.Fresh.h2();
  }
}
