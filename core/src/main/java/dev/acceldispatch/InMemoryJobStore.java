package dev.acceldispatch;

import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.StaleJobException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link JobStore}: jobs in a concurrent map, gone when the process ends. Thread-safe.
 * A dispatcher using it releases every live resource when it is closed.
 */
public final class InMemoryJobStore implements JobStore {
  private final ConcurrentHashMap<String, JobRecord> jobs = new ConcurrentHashMap<>();

  /** An empty store. */
  public InMemoryJobStore() {}

  @Override
  public void insert(JobRecord job) {
    if (jobs.putIfAbsent(job.id(), job.withVersion(0)) != null) {
      throw new IllegalStateException("job " + job.id() + " already exists");
    }
  }

  @Override
  public JobRecord update(JobRecord job) {
    JobRecord[] stored = new JobRecord[1];
    jobs.compute(
        job.id(),
        (id, current) -> {
          if (current == null) {
            throw new IllegalStateException("job " + id + " does not exist");
          }
          if (current.version() != job.version()) {
            throw new StaleJobException(id, job.version(), current.version());
          }
          stored[0] = job.withVersion(job.version() + 1);
          return stored[0];
        });
    return stored[0];
  }

  @Override
  public Optional<JobRecord> find(String jobId) {
    return Optional.ofNullable(jobs.get(jobId));
  }

  @Override
  public List<JobRecord> unfinished() {
    return jobs.values().stream()
        .filter(j -> !j.state().isTerminal())
        .sorted(Comparator.comparing(JobRecord::submittedAt).thenComparing(JobRecord::id))
        .toList();
  }

  /** How many jobs it holds, finished or not. */
  public int size() {
    return jobs.size();
  }
}
