package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import java.util.List;
import java.util.Optional;

/** An in-memory store that stops answering reads once {@link #down} is set, like a database gone away. */
final class UnreachableStore implements JobStore {
  static final String MESSAGE = "connection refused: jdbc:postgresql://db.internal/jobs?user=svc";

  private final InMemoryJobStore delegate = new InMemoryJobStore();
  volatile boolean down;

  @Override
  public void insert(JobRecord job) {
    check();
    delegate.insert(job);
  }

  @Override
  public JobRecord update(JobRecord job) {
    check();
    return delegate.update(job);
  }

  @Override
  public Optional<JobRecord> find(String jobId) {
    check();
    return delegate.find(jobId);
  }

  @Override
  public List<JobRecord> unfinished() {
    check();
    return delegate.unfinished();
  }

  @Override
  public List<JobRecord> query(JobQuery query) {
    check();
    return delegate.query(query);
  }

  private void check() {
    if (down) {
      throw new IllegalStateException(MESSAGE);
    }
  }
}
