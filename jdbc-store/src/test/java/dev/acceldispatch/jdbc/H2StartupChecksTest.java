package dev.acceldispatch.jdbc;

import javax.sql.DataSource;

/** Start-up checks on an in-memory H2 database. */
class H2StartupChecksTest extends StartupChecksTest {
  @Override
  DataSource openDatabase() {
    return Databases.h2Memory();
  }

  @Override
  void closeDatabase() {
    Databases.shutdownH2(ds);
  }

  @Override
  String schema() {
    return null;
  }
}
