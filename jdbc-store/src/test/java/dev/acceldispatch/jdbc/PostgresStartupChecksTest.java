package dev.acceldispatch.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;

/** Start-up checks on the local PostgreSQL, in a fresh schema per test. */
class PostgresStartupChecksTest extends StartupChecksTest {
  private HikariDataSource pool;
  private String schema;

  @Override
  DataSource openDatabase() {
    pool = Databases.postgres(4);
    schema = Databases.freshSchema();
    return pool;
  }

  @Override
  void closeDatabase() {
    Databases.dropSchema(pool, schema);
    pool.close();
  }

  @Override
  String schema() {
    return schema;
  }
}
