package dev.acceldispatch.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;

/** Secrets at rest on the local PostgreSQL, in a fresh schema per test. */
class PostgresSecretsAtRestTest extends SecretsAtRestTest {
  private HikariDataSource pool;
  private String schema;

  @Override
  DataSource openDatabase() {
    pool = Databases.postgres(6);
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
