package dev.acceldispatch;

import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.LeasingJobStore;
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
 * <p>{@link #withLeases()} makes one that several dispatchers in one process can share (a {@link
 * LeasingJobStore}), with the same lease semantics as a shared database: for tests of
 * multi-instance behaviour.
 */
public sealed class InMemoryJobStore implements JobStore {
  private static final Comparator<JobRecord> NEWEST_FIRST =
      Comparator.comparing(JobRecord::submittedAt).thenComparing(JobRecord::id).reversed();

  private final ConcurrentHashMap<String, JobRecord> jobs = new ConcurrentHashMap<>();

  /** An empty store without leases. */
  public InMemoryJobStore() {}

  /** An empty store that several dispatchers may share (a {@link LeasingJobStore}). */
  public static InMemoryJobStore withLeases() {
    return new Leasing();
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

  /** The same store with leases, with the semantics of a shared database's lease columns. */
  private static final class Leasing extends InMemoryJobStore implements LeasingJobStore {
    private record Lease(String owner, Instant until, boolean cancelRequested) {}

    private final Map<String, Lease> leases = new HashMap<>();

    @Override
    public synchronized void insertLeased(JobRecord job, String owner, Instant leaseUntil) {
      insert(job);
      leases.put(job.id(), new Lease(owner, leaseUntil, false));
    }

    @Override
    public synchronized List<JobRecord> acquireLeases(String owner, Instant now, Duration duration, int max) {
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
      Set<String> held = new HashSet<>();
      for (var e : leases.entrySet()) {
        Optional<JobRecord> r = find(e.getKey());
        if (e.getValue().owner().equals(owner) && r.isPresent() && !r.get().state().isTerminal()) {
          e.setValue(new Lease(owner, now.plus(duration), e.getValue().cancelRequested()));
          held.add(e.getKey());
        }
      }
      return held;
    }

    @Override
    public synchronized void releaseLease(String owner, String jobId) {
      Lease l = leases.get(jobId);
      if (l != null && l.owner().equals(owner)) {
        leases.put(jobId, new Lease("", Instant.MIN, l.cancelRequested()));
      }
    }

    @Override
    public synchronized boolean requestCancel(String jobId) {
      Optional<JobRecord> r = find(jobId);
      if (r.isEmpty() || r.get().state().isTerminal()) {
        return false;
      }
      Lease l = leases.get(jobId);
      leases.put(jobId, new Lease(l == null ? "" : l.owner(), l == null ? Instant.MIN : l.until(), true));
      return true;
    }

    @Override
    public synchronized Set<String> cancelRequests(String owner) {
      Set<String> out = new HashSet<>();
      leases.forEach((id, l) -> {
        Optional<JobRecord> r = find(id);
        if (l.owner().equals(owner) && l.cancelRequested() && r.isPresent() && !r.get().state().isTerminal()) {
          out.add(id);
        }
      });
      return out;
    }
  }
}
