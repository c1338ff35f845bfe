package dev.acceldispatch;

import dev.acceldispatch.spi.JobRecord;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of the jobs a {@link JobQuery} selects, newest first.
 *
 * @param jobs the jobs as the store holds them (state, attempts, cost, message), newest first
 * @param next the query for the following page, or {@code null} when this page is the last one
 */
public record JobPage(List<JobRecord> jobs, JobQuery next) {

  /** Validates and copies. */
  public JobPage {
    jobs = List.copyOf(Objects.requireNonNull(jobs, "jobs"));
  }

  /**
   * The page a store answered for {@code query}: a full page may have a successor (which may turn
   * out empty), a short one has none.
   */
  public static JobPage of(JobQuery query, List<JobRecord> jobs) {
    if (jobs.size() > query.limit()) {
      throw new IllegalStateException("the store answered " + jobs.size() + " jobs for a page of " + query.limit());
    }
    if (jobs.isEmpty() || jobs.size() < query.limit()) {
      return new JobPage(jobs, null);
    }
    JobRecord last = jobs.get(jobs.size() - 1);
    return new JobPage(jobs, query.toBuilder().after(new JobQuery.Position(last.submittedAt(), last.id())).build());
  }

  /** The query for the following page, if there may be one. */
  public Optional<JobQuery> nextPage() {
    return Optional.ofNullable(next);
  }
}
