package dev.acceldispatch;

import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.StaleJobException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link JobStore}: jobs in a concurrent map, gone when the process ends. Thread-safe.
 * A dispatcher using it releases every live resource when it is closed.
 *
 * <p>{@link #withLeases()} makes one that several dispatchers in one process can share, with the
 * same lease semantics as a shared database: for tests of multi-instance behaviour.
 */
public final class InMemoryJobStore implements JobStore {
  private record Lease(String owner, Instant until, boolean cancelRequested) {}

  private static final Comparator<JobRecord> NEWEST_FIRST =
      Comparator.comparing(JobRecord::submittedAt).thenComparing(JobRecord::id).reversed();

  private final ConcurrentHashMap<String, JobRecord> jobs = new ConcurrentHashMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  private final boolean leasing;

  /** An empty store without leases. */
  public InMemoryJobStore() {
    this(false);
  }

  private InMemoryJobStore(boolean leasing) {
    this.leasing = leasing;
  }

  /** An empty store that several dispatchers may share. */
  public static InMemoryJobStore withLeases() {
    return new InMemoryJobStore(true);
  }

  @Override
  public boolean supportsLeases() {
    return leasing;
  }

  private void requireLeasing() {
    if (!leasing) {
      throw new UnsupportedOperationException("this store does not support leases; use InMemoryJobStore.withLeases()");
    }
  }

  @Override
  public synchronized void insertLeased(JobRecord job, String owner, Instant leaseUntil) {
    requireLeasing();
    insert(job);
    leases.put(job.id(), new Lease(owner, leaseUntil, false));
  }

  @Override
  public synchronized List<JobRecord> acquireLeases(String owner, Instant now, Duration duration, int max) {
    requireLeasing();
    List<JobRecord> out = new ArrayList<>();
    for (JobRecord r : unfinished()) {
      if (out.size() >= max) {
        break;
      }
      Lease l = leases.get(r.id());
      if (l == null || l.until().isBefore(now)) {
        leases.put(r.id(), new Lease(owner, now.plus(duration), l != null && l.cancelRequested()));
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public synchronized Set<String> renewLeases(String owner, Instant now, Duration duration) {
    requireLeasing();
    Set<String> held = new HashSet<>();
    for (var e : leases.entrySet()) {
      JobRecord r = jobs.get(e.getKey());
      if (e.getValue().owner().equals(owner) && r != null && !r.state().isTerminal()) {
        e.setValue(new Lease(owner, now.plus(duration), e.getValue().cancelRequested()));
        held.add(e.getKey());
      }
    }
    return held;
  }

  @Override
  public synchronized void releaseLease(String owner, String jobId) {
    requireLeasing();
    Lease l = leases.get(jobId);
    if (l != null && l.owner().equals(owner)) {
      leases.put(jobId, new Lease("", Instant.MIN, l.cancelRequested()));
    }
  }

  @Override
  public synchronized boolean requestCancel(String jobId) {
    requireLeasing();
    JobRecord r = jobs.get(jobId);
    if (r == null || r.state().isTerminal()) {
      return false;
    }
    Lease l = leases.get(jobId);
    leases.put(jobId, new Lease(l == null ? "" : l.owner(), l == null ? Instant.MIN : l.until(), true));
    return true;
  }

  @Override
  public synchronized Set<String> cancelRequests(String owner) {
    requireLeasing();
    Set<String> out = new HashSet<>();
    leases.forEach((id, l) -> {
      JobRecord r = jobs.get(id);
      if (l.owner().equals(owner) && l.cancelRequested() && r != null && !r.state().isTerminal()) {
        out.add(id);
      }
    });
    return out;
  }

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

  @Override
  public List<JobRecord> query(JobQuery query) {
    return jobs.values().stream()
        .filter(j -> query.matches(j.id(), j.state(), j.submittedAt(), j.spec().tenant(), j.spec().labels()))
        .sorted(NEWEST_FIRST)
        .limit(query.limit())
        .toList();
  }

  /** How many jobs it holds, finished or not. */
  public int size() {
    return jobs.size();
  }
}
