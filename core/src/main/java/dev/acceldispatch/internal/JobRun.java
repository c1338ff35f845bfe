package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The engine's live state of one job, and the {@link JobHandle} hosts hold. Fields are written
 * only on the engine thread; what hosts read is published through volatile snapshots.
 */
final class JobRun implements JobHandle {
  final String id;
  final JobSpec spec;
  final Instant submittedAt;
  final long sequence;
  private final DispatchEngine engine;
  private final CompletableFuture<JobResult> result = new CompletableFuture<>();

  private volatile JobState state;
  private volatile List<Attempt> attemptsView = List.of();

  // Engine-thread state.
  /**
   * In number order. A job that fails over through a long stockout collects hundreds of attempts,
   * so the lookups the engine makes on every event avoid walking them all: attempt {@code n} is
   * looked for at index {@code n - 1} first, the highest number is kept, and attempts before
   * {@link #firstMaybeLive} are known to have ended (an ended attempt never comes back).
   */
  private final List<Attempt> attempts = new ArrayList<>();
  private int highestNumber;
  private int firstMaybeLive;
  int preemptions;
  String message = "";
  Integer exitCode;
  Map<String, String> resultAttributes = Map.of();
  long version;
  private Money closedCost = Money.ZERO;
  boolean queued;
  boolean everRan;
  boolean abandoned;
  /** Whether the store holds the job (set by the submitting thread once its insert returned). */
  volatile boolean stored;
  int inFlightProvisions;
  int pendingReleases;
  final Set<String> excludedOffers = new HashSet<>();
  final Map<Integer, Duration> pollDelay = new HashMap<>();
  final List<TaskScheduler.Cancellable> timers = new ArrayList<>();
  /** What it may ever run on, as of its preemptions and excluded offers (see {@link Placement.StaticFit}). */
  Placement.StaticFit staticFit;
  /**
   * While queued: no offer can be available for it before this (its last evaluation found only
   * blocks, the first ending then), so dispatch passes skip it until then; null to look every pass.
   */
  Instant waitUntil;
  /** Why the job could not be placed last time, in words built only if someone asks. */
  java.util.function.Supplier<String> waitReason = () -> "";

  JobRun(DispatchEngine engine, String id, JobSpec spec, JobState state, Instant submittedAt, long sequence) {
    this.engine = engine;
    this.id = id;
    this.spec = spec;
    this.state = state;
    this.submittedAt = submittedAt;
    this.sequence = sequence;
    result.whenComplete(
        (r, e) -> {
          if (e instanceof java.util.concurrent.CancellationException) {
            cancel();
          }
        });
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
    return costAt(engine.now());
  }

  @Override
  public CompletableFuture<JobResult> result() {
    return result;
  }

  @Override
  public boolean cancel() {
    return engine.cancel(this);
  }

  @Override
  public String toString() {
    return "Job{" + id + " '" + spec.name() + "' " + state + ", " + attemptsView.size() + " attempts}";
  }

  // ---- engine thread ----------------------------------------------------------------------------

  void setState(JobState s) {
    this.state = s;
  }

  /** Ended attempts' cost plus what live running attempts have accrued by {@code now}. */
  Money costAt(Instant now) {
    Money m = Money.ZERO;
    for (Attempt a : attemptsView) {
      if (a.isLive() && a.runningAt() != null) {
        m = m.plus(a.hourlyPrice().perHourFor(Duration.between(a.runningAt(), now)));
      } else {
        m = m.plus(a.cost());
      }
    }
    return m;
  }

  /** Cost of ended attempts only: kept as a sum, since placement asks for it on every decision. */
  Money closedCost() {
    return closedCost;
  }

  /** Adds an ended attempt's cost to the sum. */
  void addClosedCost(Money cost) {
    closedCost = closedCost.plus(cost);
  }

  /** Sums the cost of the attempts as loaded from the store. */
  void recomputeClosedCost() {
    Money m = Money.ZERO;
    for (Attempt a : attempts) {
      m = m.plus(a.cost());
    }
    closedCost = m;
  }

  /** Takes the attempts of a stored job being recovered. */
  void loadAttempts(List<Attempt> stored) {
    for (Attempt a : stored) {
      replace(a);
    }
  }

  Attempt attempt(int number) {
    int at = indexOf(number);
    return at < 0 ? null : attempts.get(at);
  }

  void replace(Attempt updated) {
    int at = indexOf(updated.number());
    if (at < 0) {
      attempts.add(updated);
      at = attempts.size() - 1;
    } else {
      attempts.set(at, updated);
    }
    highestNumber = Math.max(highestNumber, updated.number());
    if (updated.isLive() && at < firstMaybeLive) {
      firstMaybeLive = at;
    }
  }

  private int indexOf(int number) {
    int guess = number - 1;
    if (guess >= 0 && guess < attempts.size() && attempts.get(guess).number() == number) {
      return guess;
    }
    for (int i = 0; i < attempts.size(); i++) {
      if (attempts.get(i).number() == number) {
        return i;
      }
    }
    return -1;
  }

  List<Attempt> liveAttempts() {
    while (firstMaybeLive < attempts.size() && !attempts.get(firstMaybeLive).isLive()) {
      firstMaybeLive++;
    }
    List<Attempt> live = null;
    for (int i = firstMaybeLive; i < attempts.size(); i++) {
      Attempt a = attempts.get(i);
      if (a.isLive()) {
        if (live == null) {
          live = new ArrayList<>(2);
        }
        live.add(a);
      }
    }
    return live == null ? List.of() : live;
  }

  int nextAttemptNumber() {
    return highestNumber + 1;
  }

  void publish() {
    attemptsView = List.copyOf(attempts);
  }

  JobRecord toRecord(Instant now) {
    return new JobRecord(id, spec, state, version, submittedAt, now, attempts, preemptions, message, exitCode, resultAttributes);
  }

  JobResult toResult() {
    return new JobResult(id, state, attempts, closedCost(), message, exitCode, resultAttributes);
  }

  CompletableFuture<JobResult> resultFuture() {
    return result;
  }
}
