package dev.acceldispatch.jdbc;

import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.testkit.JobStoreContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on the embedded durable default: an H2 file in a temporary directory. */
class H2FileJobStoreContractTest extends JobStoreContractTest {
  @TempDir Path dir;

  @Override
  protected JobStore createStore() {
    return JdbcJobStore.h2FileBuilder(dir.resolve("jobs")).secretKeys(Databases.KEYS).build();
  }

  @Override
  protected void destroyStore(JobStore store) {
    ((JdbcJobStore) store).close();
  }
}
