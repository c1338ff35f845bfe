package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * One job inside the engine, and the {@link JobHandle} hosts hold: an aggregate whose state
 * changes only through its transition methods, on the engine thread. Hosts read volatile
 * snapshots ({@link #state()}, {@link #attempts()}).
 */
final class JobRun implements JobHandle {
  /** What a job needs from the engine that runs it. */
  interface Host {
    /** The engine's clock. */
    Instant now();

    /** Asks the engine to cancel the job; false when it already ended. */
    boolean cancel(JobRun job);
  }

  private final String id;
  private final JobSpec spec;
  private final Instant submittedAt;
  private final long sequence;
  private final Host host;
  private final CompletableFuture<JobResult> result = new CompletableFuture<>();

  private volatile JobState state;
  private volatile List<Attempt> attemptsView = List.of();
  /** Whether the store holds the job (set by the submitting thread once its insert returned). */
  private volatile boolean stored;

  private final AttemptLog attempts = new AttemptLog();
  private int preemptions;
  private String message = "";
  private Integer exitCode;
  private Map<String, String> resultAttributes = Map.of();
  private long version;
  private Money closedCost = Money.ZERO;
  private boolean queued;
  private boolean everRan;
  private boolean abandoned;
  private int inFlightProvisions;
  /**
   * Failed starts whose machine may exist until their release succeeds (see {@link
   * #mayStartElsewhere}); null while there are none, since 10^5 queued jobs would each carry an
   * empty set.
   */
  private Set<Integer> unconfirmedFailedStarts;
  private int contractViolations;
  private int pendingReleases;
  private final Map<Integer, Duration> pollDelay = new HashMap<>();
  private final List<TaskScheduler.Cancellable> timers = new ArrayList<>();
  private final PlacementMemo memo = new PlacementMemo();

  JobRun(Host host, String id, JobSpec spec, JobState state, Instant submittedAt, long sequence) {
    this.host = host;
    this.id = id;
    this.spec = spec;
    this.state = state;
    this.submittedAt = submittedAt;
    this.sequence = sequence;
    result.whenComplete((r, e) -> {
      if (e instanceof CancellationException) {
        cancel();
      }
    });
  }

  /** A job taken over from the store (after a restart, or a lease): its stored history and state. */
  static JobRun fromRecord(Host host, JobRecord r, long sequence) {
    JobRun job = new JobRun(host, r.id(), r.spec(), r.state(), r.submittedAt(), sequence);
    job.stored = true;
    job.version = r.version();
    for (Attempt a : r.attempts()) {
      job.put(a);
      job.closedCost = job.closedCost.plus(a.cost());
      job.everRan |= a.runningAt() != null;
    }
    job.preemptions = r.preemptions();
    job.message = r.message();
    job.publish();
    return job;
  }

  // ---- JobHandle (any thread) -------------------------------------------------------------------

  @Override
  public String id() {
    return id;
  }

  @Override
  public JobSpec spec() {
    return spec;
  }

  @Override
  public JobState state() {
    return state;
  }

  @Override
  public List<Attempt> attempts() {
    return attemptsView;
  }

  @Override
  public Money cost() {
    return costAt(host.now());
  }

  @Override
  public CompletableFuture<JobResult> result() {
    return result;
  }

  @Override
  public boolean cancel() {
    return host.cancel(this);
  }

  @Override
  public String toString() {
    return "Job{" + id + " '" + spec.name() + "' " + state + ", " + attemptsView.size() + " attempts}";
  }

  Instant submittedAt() {
    return submittedAt;
  }

  /** Submission order, the tie-break within a tenant's queue. */
  long sequence() {
    return sequence;
  }

  boolean isStored() {
    return stored;
  }

  void markStored() {
    stored = true;
  }

  // ---- state ------------------------------------------------------------------------------------

  String message() {
    return message;
  }

  /** Moves to {@code to} with the reason; the caller persists and reports it. */
  void moveTo(JobState to, String reason) {
    this.state = to;
    this.message = reason;
  }

  long version() {
    return version;
  }

  /** The store accepted a write of the job: its new version. */
  void storedAs(long newVersion) {
    this.version = newVersion;
  }

  boolean isAbandoned() {
    return abandoned;
  }

  /** Another dispatcher owns the job now: this one must never write it again. */
  void abandon() {
    abandoned = true;
  }

  boolean everRan() {
    return everRan;
  }

  int preemptions() {
    return preemptions;
  }

  /** An attempt was preempted or vanished: counts against the preemption budget. */
  int countLoss() {
    return ++preemptions;
  }

  void recordExit(Integer code, Map<String, String> attributes) {
    this.exitCode = code;
    this.resultAttributes = attributes;
  }

  // ---- queue and placement memo -----------------------------------------------------------------

  boolean isQueued() {
    return queued;
  }

  /** Set by {@link JobQueue} alone. */
  void setQueued(boolean queued) {
    this.queued = queued;
  }

  /** What placement remembers about the job between passes. */
  PlacementMemo memo() {
    return memo;
  }

  // ---- timers, polls, in-flight calls -------------------------------------------------------------

  void addTimer(TaskScheduler.Cancellable t) {
    timers.add(t);
  }

  void cancelTimers() {
    timers.forEach(TaskScheduler.Cancellable::cancel);
    timers.clear();
  }

  /** Polls of attempt {@code n} start over at {@code initial}. */
  void resetPollDelay(int n, Duration initial) {
    pollDelay.put(n, initial);
  }

  /** The delay before the next poll of attempt {@code n}; each one 1.5 times the last, up to {@code max}. */
  Duration nextPollDelay(int n, Duration initial, Duration max) {
    Duration d = pollDelay.getOrDefault(n, initial);
    pollDelay.put(n, Duration.ofMillis(Math.min(max.toMillis(), Math.round(d.toMillis() * 1.5))));
    return d;
  }

  void provisionSent() {
    inFlightProvisions++;
  }

  void provisionReturned() {
    inFlightProvisions--;
  }

  void releaseSent() {
    pendingReleases++;
  }

  void releaseEnded() {
    pendingReleases--;
  }

  /** Whether no create or release of the job is in flight. */
  boolean isSettled() {
    return inFlightProvisions == 0 && pendingReleases == 0;
  }

  /**
   * Attempt {@code n} failed to start, but its create may have made a machine (a lost response,
   * retries that ran out): until its release succeeds the job must not start elsewhere, or two
   * machines could run its workload at once.
   */
  void failedStartUnconfirmed(int n) {
    if (unconfirmedFailedStarts == null) {
      unconfirmedFailedStarts = new HashSet<>(2);
    }
    unconfirmedFailedStarts.add(n);
  }

  /** The release of attempt {@code n}'s machine succeeded: it cannot run anything any more. */
  void releaseConfirmed(int n) {
    if (unconfirmedFailedStarts != null && unconfirmedFailedStarts.remove(n) && unconfirmedFailedStarts.isEmpty()) {
      unconfirmedFailedStarts = null;
    }
  }

  /** Whether no failed start of the job may still have a machine that runs its workload. */
  boolean mayStartElsewhere() {
    return unconfirmedFailedStarts == null;
  }

  /** A status call broke the SPI contract again; how many times in a row now. */
  int countContractViolation() {
    return ++contractViolations;
  }

  void clearContractViolations() {
    contractViolations = 0;
  }

  // ---- attempts -----------------------------------------------------------------------------------

  /** Opens the next attempt on {@code o}, named by {@link ResourceNames}. */
  Attempt startAttempt(Offer o, boolean spot, Instant now) {
    int n = attempts.nextNumber();
    Attempt a = new Attempt(n, o, spot, ResourceNames.of(id, n), null, now, null, null, null, Money.ZERO, "");
    put(a);
    return a;
  }

  /** The cloud accepted attempt {@code n}'s create: this is its resource. */
  Attempt provisioned(int n, ProvisionedResource res) {
    Attempt a = attempt(n);
    Attempt updated = new Attempt(n, a.offer(), a.spot(), a.resourceName(), res, a.startedAt(), null, null, null, Money.ZERO, "");
    put(updated);
    return updated;
  }

  /** Attempt {@code n} was first seen running at {@code at}. */
  Attempt markRunning(int n, Instant at) {
    Attempt a = attempt(n);
    Attempt updated = new Attempt(n, a.offer(), a.spot(), a.resourceName(), a.resource(), a.startedAt(), at, null, null, Money.ZERO, "");
    put(updated);
    everRan = true;
    return updated;
  }

  /** Ends attempt {@code n} at {@code now}, costed by {@link AttemptCost}. */
  Attempt endAttempt(int n, AttemptOutcome outcome, String detail, Instant now) {
    Attempt a = attempt(n);
    Money cost = AttemptCost.of(a, now);
    Attempt ended = new Attempt(n, a.offer(), a.spot(), a.resourceName(), a.resource(), a.startedAt(), a.runningAt(), now, outcome, cost, detail);
    put(ended);
    closedCost = closedCost.plus(cost);
    publish();
    return ended;
  }

  Attempt attempt(int number) {
    return attempts.get(number);
  }

  List<Attempt> liveAttempts() {
    return attempts.live();
  }

  private void put(Attempt updated) {
    attempts.put(updated);
  }

  // ---- cost and snapshots -------------------------------------------------------------------------

  /** Ended attempts' cost plus what live attempts have accrued by {@code now} ({@link AttemptCost}). */
  Money costAt(Instant now) {
    Money m = Money.ZERO;
    for (Attempt a : attemptsView) {
      m = m.plus(AttemptCost.of(a, now));
    }
    return m;
  }

  /** Cost of ended attempts only: kept as a sum, since placement asks for it on every decision. */
  Money closedCost() {
    return closedCost;
  }

  /** Makes the attempts as they are now visible to hosts. */
  void publish() {
    attemptsView = attempts.snapshot();
  }

  JobRecord toRecord(Instant now) {
    return new JobRecord(id, spec, state, version, submittedAt, now, attempts.snapshot(), preemptions, message, exitCode, resultAttributes);
  }

  JobResult toResult() {
    return new JobResult(id, state, attempts.snapshot(), closedCost, message, exitCode, resultAttributes);
  }

  /** Completes {@link #result()} once the job ended and nothing of it is in flight; true if it did now. */
  boolean completeIfSettled() {
    if (state.isTerminal() && isSettled() && !result.isDone()) {
      result.complete(toResult());
      return true;
    }
    return false;
  }
}
