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
import java.util.Optional;
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
    SimulatedClouds clouds = SimulatedClouds.build(model, scheduler.manualClock(), scheduler, seed, horizon, capacityScale);
    Driver driver = Driver.of(new Driver.Context(policy, model, mapping, clouds, scheduler, seed));
    int[] queued = {0};
    Dispatcher.Builder b = Dispatcher.builder()
        .scheduler(scheduler)
        .providerExecutor(Runnable::run)
        .placementPolicy(driver.placement())
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
          driver.onEvent(e);
        });
    clouds.providers.forEach(b::provider);
    policy.configure(b);
    double lowerBound = 0;
    long[] submittedAt = new long[jobs.size()];
    List<PolicyResult.Sample> samples = new ArrayList<>();
    long sampleEvery = Math.max(60, (lastSubmit + longest) / Math.max(1, samplesWanted));
    long nextSample = 0;
    try (Dispatcher d = b.build()) {
      driver.start(d);
      for (int i = 0; i < jobs.size(); i++) {
        TraceJob j = jobs.get(i);
        while (nextSample <= j.submitSeconds()) {
          advanceTo(scheduler, t0, nextSample);
          samples.add(sample(scheduler, t0, queued[0] + driver.held(), clouds));
          nextSample += sampleEvery;
        }
        advanceTo(scheduler, t0, j.submitSeconds());
        submittedAt[i] = j.submitSeconds();
        driver.submit(i, j);
        lowerBound += mapping.lowerBound(j, clouds.offers);
        if ((i + 1) % 10_000 == 0) {
          log.info("policy {}: {} of {} jobs submitted, simulated day {}, {} queued, {} ms wall", policy.key(), i + 1,
              jobs.size(), j.submitSeconds() / 86_400, queued[0] + driver.held(), (System.nanoTime() - start) / 1_000_000);
        }
      }
      // Drain: run until every job has ended, sampling as we go (bounded, in case something never ends).
      // Single-region queues can hold a job for weeks before its long run starts: wait generously.
      long limit = lastSubmit + 50 * longest + 365L * 86_400;
      int firstOpen = 0;
      while (nextSample < limit) {
        while (firstOpen < jobs.size() && driver.finished(firstOpen)) {
          firstOpen++;
        }
        if (firstOpen == jobs.size()) {
          break;
        }
        advanceTo(scheduler, t0, nextSample);
        samples.add(sample(scheduler, t0, queued[0] + driver.held(), clouds));
        nextSample += sampleEvery;
      }
      // Let the releases of the last jobs reach the clouds, so that every bill is closed.
      scheduler.runDue();
      samples.add(sample(scheduler, t0, queued[0] + driver.held(), clouds));
      long simulated = Duration.between(t0, scheduler.now()).toSeconds();
      long wall = (System.nanoTime() - start) / 1_000_000;
      long cloudTasks = clouds.providers.stream().mapToLong(SimProvider::tasks).sum();
      return summarize(policy, t0, jobs, driver, submittedAt, clouds, lowerBound, wall, scheduler.tasksRun() - cloudTasks,
          simulated, samples, lastSubmit);
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

  private PolicyResult summarize(Policy policy, Instant t0, List<TraceJob> jobs, Driver driver, long[] submittedAt,
      SimulatedClouds clouds, double lowerBound, long wall, long events, long simulated, List<PolicyResult.Sample> samples,
      long lastSubmit) {
    int succeeded = 0;
    int lost = 0;
    List<Double> tts = new ArrayList<>();
    List<Double> jct = new ArrayList<>();
    long attempts = 0;
    int mostAttempts = 0;
    Map<String, Long> outcomes = new TreeMap<>();
    for (int i = 0; i < jobs.size(); i++) {
      List<JobHandle> hs = driver.handles.get(i);
      JobHandle last = hs.isEmpty() ? null : hs.get(hs.size() - 1);
      JobResult r = last == null ? null : last.result().getNow(null);
      Instant submitted = t0.plusSeconds(submittedAt[i]);
      Instant firstRun = null;
      Instant end = null;
      int jobAttempts = 0;
      for (JobHandle h : hs) {
        JobResult hr = h.result().getNow(null);
        if (hr == null) {
          continue;
        }
        for (Attempt a : hr.attempts()) {
          jobAttempts++;
          outcomes.merge(String.valueOf(a.outcome()), 1L, Long::sum);
          // The simulation knows when the machine started and when the workload ended; the engine
          // only knows when a poll noticed.
          Optional<SimProvider.Outcome> o = clouds.outcome(a.offer().providerId(), a.resourceName());
          if (o.isPresent()) {
            if (firstRun == null || o.get().startedAt().isBefore(firstRun)) {
              firstRun = o.get().startedAt();
            }
            if (a.outcome() == AttemptOutcome.SUCCEEDED && o.get().workloadEndedAt() != null) {
              end = o.get().workloadEndedAt();
            }
          }
        }
      }
      attempts += jobAttempts;
      mostAttempts = Math.max(mostAttempts, jobAttempts);
      if (r == null || r.state() != JobState.SUCCEEDED) {
        lost++;
        if (lost <= 5) {
          log.warn("policy {}: job {} did not succeed (still {} at the end of the drain counts as lost): {}", policy.key(),
              jobs.get(i).id(), last == null ? "held" : last.state(), r == null ? "unfinished" : r.message());
        }
        continue;
      }
      succeeded++;
      if (firstRun != null) {
        tts.add(Duration.between(submitted, firstRun).toMillis() / 1000.0);
      }
      if (end != null) {
        jct.add(Duration.between(submitted, end).toMillis() / 1000.0);
      }
    }
    log.info("policy {}: {} attempts for {} jobs, at most {} for one job; outcomes {}", policy.key(), attempts, jobs.size(),
        mostAttempts, outcomes);
    if (driver instanceof SkyPilotDriver sky) {
      log.info("policy {}: {} relaunches after a full failover round", policy.key(), sky.resubmits());
    }
    double cost = 0;
    long preemptions = 0;
    double lostHours = 0;
    long calls = 0;
    long failedCreates = 0;
    double idle = 0;
    for (SimProvider p : clouds.providers) {
      cost += p.costSoFar();
      preemptions += p.preemptions();
      lostHours += p.preemptedDeviceHours();
      calls += p.calls();
      failedCreates += p.failedCreates();
      idle += p.idleBilledHours();
      log.info("policy {}: {} calls: {}", policy.key(), p.id(), p.callsByOperation());
      if (p.liveResources() != 0 || p.cloud().liveResources() != 0) {
        log.warn("policy {}: {} resources left at {}", policy.key(), p.cloud().liveResources(), p.id());
      }
    }
    return new PolicyResult(policy, jobs.size(), succeeded, lost, cost, lowerBound,
        percentiles(tts, 50, 95, 99), percentiles(jct, 50, 95), preemptions, lostHours, calls, wall, events, simulated, samples,
        failedCreates, idle, lastSubmit / 3600.0, driver instanceof SkyPilotDriver sky ? sky.resubmits() : 0);
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
