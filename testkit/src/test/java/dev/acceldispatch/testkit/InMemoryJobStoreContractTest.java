package dev.acceldispatch.testkit;

import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.spi.JobStore;

/** The store contract, run against the default in-memory store. */
class InMemoryJobStoreContractTest extends JobStoreContractTest {
  @Override
  protected JobStore createStore() {
    return new InMemoryJobStore();
  }
}
