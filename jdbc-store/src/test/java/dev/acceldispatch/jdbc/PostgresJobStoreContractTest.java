package dev.acceldispatch.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.testkit.JobStoreContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on the local PostgreSQL, in a fresh schema per test. */
class PostgresJobStoreContractTest extends JobStoreContractTest {
  private static HikariDataSource pool;
  private String schema;

  @BeforeAll
  static void connect() {
    pool = Databases.postgres(8);
  }

  @AfterAll
  static void disconnect() {
    pool.close();
  }

  @Override
  protected JobStore createStore() {
    schema = Databases.freshSchema();
    return JdbcJobStore.builder(pool).schema(schema).secretKeys(Databases.KEYS).build();
  }

  @Override
  protected void destroyStore(JobStore store) {
    Databases.dropSchema(pool, schema);
  }
}
