package dev.acceldispatch.jdbc;

import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.testkit.JobStoreContractTest;
import javax.sql.DataSource;

/** The store contract on an in-memory H2 database (PostgreSQL mode), one per test. */
class H2MemoryJobStoreContractTest extends JobStoreContractTest {
  private DataSource ds;

  @Override
  protected JobStore createStore() {
    ds = Databases.h2Memory();
    return JdbcJobStore.builder(ds).secretKeys(Databases.KEYS).build();
  }

  @Override
  protected void destroyStore(JobStore store) {
    Databases.shutdownH2(ds);
  }
}
