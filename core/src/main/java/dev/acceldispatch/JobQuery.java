package dev.acceldispatch;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which jobs {@link Dispatcher#jobs(JobQuery)} lists: a filter on state, tenant, labels and
 * submission time, and one page of the answer. Results come newest first (by submission time,
 * then by id, both descending); the next page is the same query {@linkplain #after after} the last
 * job of this one, so pages never repeat or skip a job, even while new jobs are submitted.
 *
 * <p>Immutable; built with {@link #builder()}, copied with {@link #toBuilder()}.
 *
 * <pre>{@code
 * JobPage page = dispatcher.jobs(JobQuery.builder().states(JobState.RUNNING).tenant("research").build());
 * }</pre>
 */
public final class JobQuery {
  /** The most jobs one page may hold. */
  public static final int MAX_LIMIT = 1000;
  /** The page size when none is set. */
  public static final int DEFAULT_LIMIT = 100;

  /**
   * Where a page ends: the submission time and id of its last (oldest) job. The next page holds
   * the jobs strictly after it in the newest-first order.
   *
   * @param submittedAt the last job's submission time
   * @param jobId the last job's id
   */
  public record Position(Instant submittedAt, String jobId) {
    /** Validates. */
    public Position {
      Objects.requireNonNull(submittedAt, "after.submittedAt");
      Objects.requireNonNull(jobId, "after.jobId");
    }
  }

  private final Set<JobState> states;
  private final String tenant;
  private final Map<String, String> labels;
  private final Instant submittedFrom;
  private final Instant submittedBefore;
  private final int limit;
  private final Position after;

  private JobQuery(Builder b) {
    this.states = b.states.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(b.states));
    this.tenant = b.tenant;
    this.labels = Collections.unmodifiableMap(new LinkedHashMap<>(b.labels));
    this.submittedFrom = b.submittedFrom;
    this.submittedBefore = b.submittedBefore;
    this.limit = b.limit;
    this.after = b.after;
  }

  /** A builder for a query of every job, first page of {@value #DEFAULT_LIMIT}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Every job, first page of {@value #DEFAULT_LIMIT}. */
  public static JobQuery all() {
    return builder().build();
  }

  /** A builder holding this query's settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.states.addAll(states);
    b.tenant = tenant;
    b.labels.putAll(labels);
    b.submittedFrom = submittedFrom;
    b.submittedBefore = submittedBefore;
    b.limit = limit;
    b.after = after;
    return b;
  }

  /** The states a job must be in; empty means any. */
  public Set<JobState> states() {
    return states;
  }

  /** The tenant a job must belong to, if set. */
  public Optional<String> tenant() {
    return Optional.ofNullable(tenant);
  }

  /** Labels a job must carry, each with this exact value; empty means any. */
  public Map<String, String> labels() {
    return labels;
  }

  /** Only jobs submitted at or after this instant, if set. */
  public Optional<Instant> submittedFrom() {
    return Optional.ofNullable(submittedFrom);
  }

  /** Only jobs submitted strictly before this instant, if set. */
  public Optional<Instant> submittedBefore() {
    return Optional.ofNullable(submittedBefore);
  }

  /** The most jobs a page holds, 1 to {@value #MAX_LIMIT}. */
  public int limit() {
    return limit;
  }

  /** Where the previous page ended, if this is not the first page. */
  public Optional<Position> after() {
    return Optional.ofNullable(after);
  }

  /**
   * Whether a job passes the filter and comes after {@link #after()}. Stores that cannot express
   * every filter in their own query language apply this to what they read.
   */
  public boolean matches(String jobId, JobState state, Instant submittedAt, String jobTenant, Map<String, String> jobLabels) {
    if (!states.isEmpty() && !states.contains(state)) {
      return false;
    }
    if (tenant != null && !tenant.equals(jobTenant)) {
      return false;
    }
    for (var e : labels.entrySet()) {
      if (!e.getValue().equals(jobLabels.get(e.getKey()))) {
        return false;
      }
    }
    if (submittedFrom != null && submittedAt.isBefore(submittedFrom)) {
      return false;
    }
    if (submittedBefore != null && !submittedAt.isBefore(submittedBefore)) {
      return false;
    }
    return after == null || isAfter(submittedAt, jobId, after);
  }

  /** Whether (submittedAt, jobId) comes strictly after {@code p} in the newest-first order. */
  static boolean isAfter(Instant submittedAt, String jobId, Position p) {
    int c = submittedAt.compareTo(p.submittedAt());
    return c < 0 || (c == 0 && jobId.compareTo(p.jobId()) < 0);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobQuery q
        && states.equals(q.states)
        && Objects.equals(tenant, q.tenant)
        && labels.equals(q.labels)
        && Objects.equals(submittedFrom, q.submittedFrom)
        && Objects.equals(submittedBefore, q.submittedBefore)
        && limit == q.limit
        && Objects.equals(after, q.after);
  }

  @Override
  public int hashCode() {
    return Objects.hash(states, tenant, labels, submittedFrom, submittedBefore, limit, after);
  }

  @Override
  public String toString() {
    return "JobQuery{states=" + states + ", tenant=" + tenant + ", labels=" + labels + ", submittedFrom="
        + submittedFrom + ", submittedBefore=" + submittedBefore + ", limit=" + limit + ", after=" + after + "}";
  }

  /** Builds a {@link JobQuery}. Not thread-safe; {@link #build()} copies every setting. */
  public static final class Builder {
    private final Set<JobState> states = EnumSet.noneOf(JobState.class);
    private String tenant;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private Instant submittedFrom;
    private Instant submittedBefore;
    private int limit = DEFAULT_LIMIT;
    private Position after;

    private Builder() {}

    /** Only jobs in one of these states (adds to those set before). */
    public Builder states(JobState... states) {
      for (JobState s : Objects.requireNonNull(states, "states")) {
        this.states.add(Objects.requireNonNull(s, "states: null entry"));
      }
      return this;
    }

    /** Only jobs of this tenant; {@code null} for any. */
    public Builder tenant(String tenant) {
      this.tenant = tenant;
      return this;
    }

    /** Only jobs carrying label {@code key} with exactly {@code value} (adds to those set before). */
    public Builder label(String key, String value) {
      labels.put(Objects.requireNonNull(key, "label key"), Objects.requireNonNull(value, "label value of " + key));
      return this;
    }

    /** Only jobs submitted at or after {@code from}; {@code null} for no bound. */
    public Builder submittedFrom(Instant from) {
      this.submittedFrom = from;
      return this;
    }

    /** Only jobs submitted strictly before {@code before}; {@code null} for no bound. */
    public Builder submittedBefore(Instant before) {
      this.submittedBefore = before;
      return this;
    }

    /** The page size, 1 to {@value #MAX_LIMIT}; default {@value #DEFAULT_LIMIT}. */
    public Builder limit(int limit) {
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /** Starts the page after this position (the previous page's end); {@code null} for the first page. */
    public Builder after(Position position) {
      this.after = position;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalArgumentException when the tenant is blank or the time bounds are reversed
     */
    public JobQuery build() {
      if (tenant != null && tenant.isBlank()) {
        throw new IllegalArgumentException("tenant must not be blank; use null for any tenant");
      }
      if (submittedFrom != null && submittedBefore != null && !submittedFrom.isBefore(submittedBefore)) {
        throw new IllegalArgumentException("submittedFrom (" + submittedFrom
            + ") must be before submittedBefore (" + submittedBefore + ")");
      }
      return new JobQuery(this);
    }
  }
}
