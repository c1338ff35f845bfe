package dev.acceldispatch.testkit;

import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.spi.JobStore;

/** The store contract, leases included, for the in-memory store several dispatchers can share. */
class InMemoryLeasingJobStoreContractTest extends JobStoreContractTest {
  @Override
  protected JobStore createStore() {
    return InMemoryJobStore.withLeases();
  }
}
