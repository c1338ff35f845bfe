package dev.acceldispatch.internal;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Queued jobs by priority (highest first), then by tenant, each tenant's jobs in submission order
 * (a requeued job keeps its original place). Which tenant goes next within a priority is the
 * engine's fair-share decision. Engine-thread only.
 */
final class JobQueue {
  private final NavigableMap<Integer, Map<String, TreeSet<JobRun>>> levels = new TreeMap<>(Comparator.reverseOrder());
  private int size;

  void add(JobRun job) {
    if (job.isQueued()) {
      return;
    }
    levels.computeIfAbsent(job.spec().priority(), p -> new HashMap<>())
        .computeIfAbsent(job.spec().tenant(), t -> new TreeSet<>(Comparator.comparingLong(JobRun::sequence)))
        .add(job);
    job.setQueued(true);
    size++;
  }

  void remove(JobRun job) {
    if (!job.isQueued()) {
      return;
    }
    Map<String, TreeSet<JobRun>> byTenant = levels.get(job.spec().priority());
    TreeSet<JobRun> set = byTenant == null ? null : byTenant.get(job.spec().tenant());
    if (set != null && set.remove(job)) {
      size--;
      if (set.isEmpty()) {
        byTenant.remove(job.spec().tenant());
        if (byTenant.isEmpty()) {
          levels.remove(job.spec().priority());
        }
      }
    }
    job.setQueued(false);
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Priorities with queued jobs, highest first (a snapshot). */
  Iterable<Integer> priorities() {
    return new java.util.ArrayList<>(levels.keySet());
  }

  /** Tenants with queued jobs at {@code priority} (a snapshot). */
  Set<String> tenants(int priority) {
    Map<String, TreeSet<JobRun>> byTenant = levels.get(priority);
    return byTenant == null ? Set.of() : new java.util.HashSet<>(byTenant.keySet());
  }

  /** The tenant's queued jobs at {@code priority}, oldest first (a snapshot, safe to remove from the queue meanwhile). */
  Iterator<JobRun> jobs(int priority, String tenant) {
    Map<String, TreeSet<JobRun>> byTenant = levels.get(priority);
    TreeSet<JobRun> set = byTenant == null ? null : byTenant.get(tenant);
    return set == null ? java.util.Collections.emptyIterator() : new java.util.ArrayList<>(set).iterator();
  }

  /** The first {@code limit} queued jobs of the tenant at the priority. */
  java.util.List<JobRun> head(int priority, String tenant, int limit) {
    Map<String, TreeSet<JobRun>> byTenant = levels.get(priority);
    TreeSet<JobRun> set = byTenant == null ? null : byTenant.get(tenant);
    java.util.List<JobRun> out = new java.util.ArrayList<>(Math.min(limit, set == null ? 0 : set.size()));
    if (set != null) {
      for (JobRun j : set) {
        if (out.size() >= limit) {
          break;
        }
        out.add(j);
      }
    }
    return out;
  }
}
