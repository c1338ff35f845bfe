package dev.acceldispatch.bench.replay;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobState;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.testkit.ManualScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays a trace through the real engine in virtual time ({@link ManualScheduler}, provider calls
 * inline) over the three {@link SimulatedClouds}, for one policy.
 */
public final class Replay {
  private static final Logger log = LoggerFactory.getLogger(Replay.class);

  private final ModelParameters model;
  private final JobMapping mapping;
  private final long seed;
  private final double capacityScale;
  private final int samplesWanted;

  /**
   * @param capacityScale multiplies every zone's capacity
   * @param samplesWanted points of the time series
   */
  public Replay(ModelParameters model, long seed, double capacityScale, int samplesWanted) {
    this.model = model;
    this.mapping = new JobMapping(model);
    this.seed = seed;
    this.capacityScale = capacityScale;
    this.samplesWanted = samplesWanted;
  }

  /** Runs {@code jobs} (sorted by submit time) under {@code policy}. */
  public PolicyResult run(Policy policy, List<TraceJob> jobs) {
    long start = System.nanoTime();
    ManualScheduler scheduler = new ManualScheduler();
    Instant t0 = scheduler.now();
    long lastSubmit = jobs.isEmpty() ? 0 : jobs.get(jobs.size() - 1).submitSeconds();
    long longest = jobs.stream().mapToLong(TraceJob::durationSeconds).max().orElse(0);
    Duration horizon = Duration.ofSeconds(lastSubmit + 2 * longest + 86_400);
    SimulatedClouds clouds = SimulatedClouds.build(model, scheduler.manualClock(), seed, horizon, capacityScale);
    int[] queued = {0};
    Dispatcher.Builder b = Dispatcher.builder()
        .scheduler(scheduler)
        .providerExecutor(Runnable::run)
        .placementPolicy(policy.placement())
        .pollInterval(Duration.ofSeconds(Math.round(model.number("engine.pollInitialSeconds"))),
            Duration.ofSeconds(Math.round(model.number("engine.pollMaxSeconds"))))
        .reconcileInterval(Duration.ofMinutes(Math.round(model.number("engine.reconcileMinutes"))))
        .listener(e -> {
          if (e instanceof DispatchEvent.JobSubmitted) {
            queued[0]++;
          } else if (e instanceof DispatchEvent.JobStateChanged s) {
            if (s.from() == JobState.QUEUED) {
              queued[0]--;
            }
            if (s.to() == JobState.QUEUED) {
              queued[0]++;
            }
          }
        });
    clouds.providers.forEach(b::provider);
    policy.configure(b);
    double lowerBound = 0;
    List<JobHandle> handles = new ArrayList<>(jobs.size());
    long[] submittedAt = new long[jobs.size()];
    List<PolicyResult.Sample> samples = new ArrayList<>();
    long sampleEvery = Math.max(60, (lastSubmit + longest) / Math.max(1, samplesWanted));
    long nextSample = 0;
    try (Dispatcher d = b.build()) {
      for (int i = 0; i < jobs.size(); i++) {
        TraceJob j = jobs.get(i);
        while (nextSample <= j.submitSeconds()) {
          advanceTo(scheduler, t0, nextSample);
          samples.add(sample(scheduler, t0, queued[0], clouds));
          nextSample += sampleEvery;
        }
        advanceTo(scheduler, t0, j.submitSeconds());
        submittedAt[i] = j.submitSeconds();
        handles.add(d.submit(policy.apply(mapping.spec(j), j, model)));
        lowerBound += mapping.lowerBound(j, clouds.offers);
        if ((i + 1) % 10_000 == 0) {
          log.info("policy {}: {} of {} jobs submitted, simulated day {}, {} queued, {} ms wall", policy.key(), i + 1,
              jobs.size(), j.submitSeconds() / 86_400, queued[0], (System.nanoTime() - start) / 1_000_000);
        }
      }
      // Drain: run until every job has ended, sampling as we go (bounded, in case something never ends).
      // Single-region queues can hold a job for weeks before its long run starts: wait generously.
      long limit = lastSubmit + 50 * longest + 365L * 86_400;
      while (handles.stream().anyMatch(h -> !h.state().isTerminal()) && nextSample < limit) {
        advanceTo(scheduler, t0, nextSample);
        samples.add(sample(scheduler, t0, queued[0], clouds));
        nextSample += sampleEvery;
      }
      samples.add(sample(scheduler, t0, queued[0], clouds));
      long simulated = Duration.between(t0, scheduler.now()).toSeconds();
      long wall = (System.nanoTime() - start) / 1_000_000;
      return summarize(policy, t0, jobs, handles, submittedAt, clouds, lowerBound, wall, scheduler.tasksRun(), simulated, samples);
    }
  }

  private static void advanceTo(ManualScheduler s, Instant t0, long seconds) {
    Instant target = t0.plusSeconds(seconds);
    if (target.isAfter(s.now())) {
      s.advance(Duration.between(s.now(), target));
    } else {
      s.runDue();
    }
  }

  private static PolicyResult.Sample sample(ManualScheduler s, Instant t0, int queued, SimulatedClouds clouds) {
    double cost = 0;
    for (SimProvider p : clouds.providers) {
      cost += p.costSoFar();
    }
    return new PolicyResult.Sample(Duration.between(t0, s.now()).toMillis() / 3_600_000.0, queued, cost);
  }

  private PolicyResult summarize(Policy policy, Instant t0, List<TraceJob> jobs, List<JobHandle> handles, long[] submittedAt,
      SimulatedClouds clouds, double lowerBound, long wall, long events, long simulated, List<PolicyResult.Sample> samples) {
    int succeeded = 0;
    int lost = 0;
    List<Double> tts = new ArrayList<>();
    List<Double> jct = new ArrayList<>();
    long attempts = 0;
    int mostAttempts = 0;
    Map<String, Long> outcomes = new TreeMap<>();
    for (int i = 0; i < handles.size(); i++) {
      JobHandle h = handles.get(i);
      JobResult r = h.result().getNow(null);
      if (r != null) {
        for (Attempt a : r.attempts()) {
          outcomes.merge(String.valueOf(a.outcome()), 1L, Long::sum);
        }
        attempts += r.attempts().size();
        mostAttempts = Math.max(mostAttempts, r.attempts().size());
      }
      if (r == null || r.state() != JobState.SUCCEEDED) {
        lost++;
        if (lost <= 5) {
          log.warn("policy {}: job {} did not succeed (still {} at the end of the drain counts as lost): {}", policy.key(), jobs.get(i).id(), h.state(), r == null ? "unfinished" : r.message());
        }
        continue;
      }
      succeeded++;
      Instant submitted = t0.plusSeconds(submittedAt[i]);
      Instant firstRun = null;
      Instant end = null;
      for (Attempt a : r.attempts()) {
        if (a.runningAt() != null && (firstRun == null || a.runningAt().isBefore(firstRun))) {
          firstRun = a.runningAt();
        }
        if (a.outcome() == AttemptOutcome.SUCCEEDED) {
          end = a.endedAt();
        }
      }
      if (firstRun != null) {
        tts.add(Duration.between(submitted, firstRun).toMillis() / 1000.0);
      }
      if (end != null) {
        jct.add(Duration.between(submitted, end).toMillis() / 1000.0);
      }
    }
    log.info("policy {}: {} attempts for {} jobs, at most {} for one job; outcomes {}", policy.key(), attempts, handles.size(),
        mostAttempts, outcomes);
    double cost = 0;
    long preemptions = 0;
    double lostHours = 0;
    long calls = 0;
    for (SimProvider p : clouds.providers) {
      cost += p.costSoFar();
      preemptions += p.preemptions();
      lostHours += p.preemptedDeviceHours();
      calls += p.calls();
      log.info("policy {}: {} calls: {}", policy.key(), p.id(), p.callsByOperation());
      if (p.liveResources() != 0 || p.cloud().liveResources() != 0) {
        log.warn("policy {}: {} resources left at {}", policy.key(), p.cloud().liveResources(), p.id());
      }
    }
    return new PolicyResult(policy, jobs.size(), succeeded, lost, cost, lowerBound,
        percentiles(tts, 50, 95, 99), percentiles(jct, 50, 95), preemptions, lostHours, calls, wall, events, simulated, samples);
  }

  /** Percentiles by linear interpolation (numpy's default). */
  static double[] percentiles(List<Double> values, double... ps) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    double[] out = new double[ps.length];
    for (int i = 0; i < ps.length; i++) {
      if (v.length == 0) {
        out[i] = Double.NaN;
        continue;
      }
      double pos = ps[i] / 100.0 * (v.length - 1);
      int lo = (int) Math.floor(pos);
      int hi = Math.min(v.length - 1, lo + 1);
      out[i] = v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }
    return out;
  }
}
