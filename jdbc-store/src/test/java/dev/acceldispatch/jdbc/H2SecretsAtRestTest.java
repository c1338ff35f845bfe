package dev.acceldispatch.jdbc;

import javax.sql.DataSource;

/** Secrets at rest on an in-memory H2 database, which outlives each store built on it. */
class H2SecretsAtRestTest extends SecretsAtRestTest {
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
