package dev.acceldispatch.samples.metrics;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobState;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Binds dispatcher events to Micrometer: add it with {@code Dispatcher.builder().listener(new
 * DispatchMetrics(registry))}. Meters (all names prefixed {@code accel.dispatch.}):
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>meter</th><th>type</th><th>tags</th></tr>
 *   <tr><td>{@code jobs.submitted}</td><td>counter</td><td>{@code tenant}</td></tr>
 *   <tr><td>{@code placements}</td><td>counter: attempts started</td><td>{@code provider}, {@code zone}, {@code tier}</td></tr>
 *   <tr><td>{@code failovers}</td><td>counter</td><td>{@code provider}, {@code zone}, {@code reason} (capacity, quota, throttled, transient, …)</td></tr>
 *   <tr><td>{@code preemptions}</td><td>counter: attempts preempted or lost</td><td>{@code provider}, {@code zone}, {@code outcome}</td></tr>
 *   <tr><td>{@code jobs.ended}</td><td>counter</td><td>{@code state}</td></tr>
 *   <tr><td>{@code cost.usd}</td><td>counter, US dollars</td><td>{@code provider}, {@code tier}</td></tr>
 *   <tr><td>{@code attempt.duration}</td><td>timer: attempt start to end</td><td>{@code provider}, {@code outcome}</td></tr>
 *   <tr><td>{@code time.to.start}</td><td>timer: submission to first running</td><td>{@code provider}</td></tr>
 * </table>
 *
 * <p>Tags hold provider, zone and tenant names only, never job ids (unbounded cardinality). Fast
 * and never throws, as a listener must be; times come from the events, so it works in virtual
 * time too.
 */
public final class DispatchMetrics implements DispatchListener {
  private static final String PREFIX = "accel.dispatch.";

  private final MeterRegistry registry;
  private final Map<String, Instant> submittedAt = new ConcurrentHashMap<>();
  private final Map<String, Instant> attemptStartedAt = new ConcurrentHashMap<>();
  private final Map<String, String> providerOfJob = new ConcurrentHashMap<>();

  /** Records into {@code registry}. */
  public DispatchMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public void onEvent(DispatchEvent event) {
    if (event instanceof DispatchEvent.JobSubmitted s) {
      submittedAt.put(s.jobId(), s.at());
      counter("jobs.submitted", "tenant", s.tenant()).increment();
    } else if (event instanceof DispatchEvent.AttemptStarted a) {
      attemptStartedAt.put(a.jobId() + "#" + a.attempt(), a.at());
      providerOfJob.put(a.jobId(), a.offer().providerId());
      counter("placements", "provider", a.offer().providerId(), "zone", a.offer().zone(), "tier", tier(a.spot()))
          .increment();
    } else if (event instanceof DispatchEvent.Failover f) {
      counter("failovers", "provider", f.offer().providerId(), "zone", f.offer().zone(), "reason", f.kind())
          .increment();
    } else if (event instanceof DispatchEvent.AttemptEnded a) {
      onAttemptEnded(a);
    } else if (event instanceof DispatchEvent.JobStateChanged c) {
      onStateChanged(c);
    }
  }

  private void onAttemptEnded(DispatchEvent.AttemptEnded a) {
    String provider = a.offer().providerId();
    String outcome = a.outcome() == null ? "unknown" : a.outcome().name().toLowerCase(Locale.ROOT);
    if (a.outcome() == AttemptOutcome.PREEMPTED || a.outcome() == AttemptOutcome.LOST) {
      counter("preemptions", "provider", provider, "zone", a.offer().zone(), "outcome", outcome).increment();
    }
    if (a.cost() != null) {
      counter("cost.usd", "provider", provider, "tier", tier(a.spot())).increment(a.cost().toDouble());
    }
    Instant started = attemptStartedAt.remove(a.jobId() + "#" + a.attempt());
    if (started != null) {
      Timer.builder(PREFIX + "attempt.duration").tags("provider", provider, "outcome", outcome)
          .register(registry).record(Duration.between(started, a.at()));
    }
  }

  private void onStateChanged(DispatchEvent.JobStateChanged c) {
    if (c.to() == JobState.RUNNING) {
      Instant submitted = submittedAt.remove(c.jobId());
      if (submitted != null) {
        String provider = providerOfJob.getOrDefault(c.jobId(), "unknown");
        Timer.builder(PREFIX + "time.to.start").tags("provider", provider)
            .register(registry).record(Duration.between(submitted, c.at()));
      }
    } else if (c.to().isTerminal()) {
      submittedAt.remove(c.jobId());
      providerOfJob.remove(c.jobId());
      counter("jobs.ended", "state", c.to().name().toLowerCase(Locale.ROOT)).increment();
    }
  }

  private Counter counter(String name, String... tags) {
    return Counter.builder(PREFIX + name).tags(tags).register(registry);
  }

  private static String tier(boolean spot) {
    return spot ? "spot" : "on-demand";
  }
}
