package dev.acceldispatch.micrometer;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.Provider;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dispatcher's metrics in a Micrometer {@link MeterRegistry}: a {@link DispatchListener} that
 * turns events into meters, plus {@link #instrument(Provider)} for provider call latency and
 * errors, which no event carries.
 *
 * <pre>{@code
 * DispatchMetrics metrics = DispatchMetrics.builder(registry).build();
 * Dispatcher d = Dispatcher.builder()
 *     .provider(metrics.instrument(tpuProvider))
 *     .listener(metrics)
 *     .build();
 * metrics.bindTo(d); // optional: tenant usage gauges, tenants of jobs recovered from a durable store
 * }</pre>
 *
 * <p>Meters, all named {@code accel.dispatch.*} (dots, lower case: Micrometer's naming convention,
 * which each registry renders its own way, for example {@code accel_dispatch_failovers_total} in
 * Prometheus):
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th></tr>
 *   <tr><td>{@code jobs.submitted}</td><td>counter</td><td>{@code tenant}</td></tr>
 *   <tr><td>{@code jobs.active}</td><td>gauge: unfinished jobs now</td><td>{@code tenant}, {@code state} ({@code queued}, {@code provisioning}, {@code running})</td></tr>
 *   <tr><td>{@code jobs.ended}</td><td>counter</td><td>{@code tenant}, {@code state} ({@code succeeded}, {@code failed}, {@code cancelled})</td></tr>
 *   <tr><td>{@code jobs.time.to.start}</td><td>timer: submission to first running</td><td>{@code tenant}, {@code provider}</td></tr>
 *   <tr><td>{@code jobs.run.time}</td><td>timer: each stretch in running, until the job leaves it</td><td>{@code tenant}, {@code provider}, {@code end} (the state it left running for)</td></tr>
 *   <tr><td>{@code attempts.started}</td><td>counter</td><td>{@code provider}, {@code zone}, {@code tier} ({@code spot}, {@code on-demand})</td></tr>
 *   <tr><td>{@code attempts.ended}</td><td>counter</td><td>{@code provider}, {@code zone}, {@code tier}, {@code outcome} ({@code succeeded}, {@code failed}, {@code preempted}, {@code capacity}, {@code quota}, {@code cancelled}, {@code lost})</td></tr>
 *   <tr><td>{@code attempts.duration}</td><td>timer: attempt start to end, the time a machine was asked for or held</td><td>{@code provider}, {@code outcome}</td></tr>
 *   <tr><td>{@code failovers}</td><td>counter</td><td>{@code provider}, {@code zone}, {@code reason} ({@code capacity}, {@code quota}, {@code throttled}, {@code transient}, {@code invalid}, {@code permission}, …)</td></tr>
 *   <tr><td>{@code preemptions}</td><td>counter: attempts preempted or vanished</td><td>{@code provider}, {@code zone}, {@code outcome} ({@code preempted}, {@code lost})</td></tr>
 *   <tr><td>{@code cost}</td><td>counter, base unit {@code usd}</td><td>{@code tenant}, {@code provider}, {@code tier}</td></tr>
 *   <tr><td>{@code offers.blocks}</td><td>counter: blocks placed after a failover</td><td>{@code provider}, {@code zone}, {@code reason}</td></tr>
 *   <tr><td>{@code offers.blocked}</td><td>gauge: offers blocked now</td><td>{@code provider}</td></tr>
 *   <tr><td>{@code resources.released}</td><td>counter</td><td>{@code provider}</td></tr>
 *   <tr><td>{@code orphans.released}</td><td>counter</td><td>{@code provider}</td></tr>
 *   <tr><td>{@code provider.calls}</td><td>timer: one call of an {@linkplain #instrument instrumented} provider</td><td>{@code provider}, {@code call} ({@code offers}, {@code provision}, {@code status}, {@code release}, {@code list-owned}), {@code outcome} ({@code success}, {@code error}), {@code error} ({@code none} or the failure kind)</td></tr>
 *   <tr><td>{@code tenant.devices}</td><td>gauge: accelerators held now, after {@link #bindTo}</td><td>{@code tenant}</td></tr>
 *   <tr><td>{@code tenant.spend.rate}</td><td>gauge, {@code usd} per hour, after {@link #bindTo}</td><td>{@code tenant}</td></tr>
 * </table>
 *
 * <p>Tags hold provider, zone, tenant and outcome names only, never job ids or resource names,
 * whose number has no bound. Times come from the events, and the provider call timer and the
 * blocked-offers gauge read the {@linkplain Builder#clock clock} given, so the same meters work in
 * virtual time. Fast and never throws, as a listener must be. Thread-safe.
 */
public final class DispatchMetrics implements DispatchListener {
  static final String PREFIX = "accel.dispatch.";
  private static final String UNKNOWN = "unknown";

  private final MeterRegistry registry;
  private final Tags commonTags;
  private final Clock clock;
  private final Map<String, TrackedJob> jobs = new HashMap<>();
  private final Map<List<String>, AtomicInteger> active = new ConcurrentHashMap<>();
  private final OfferBlocks blocks;
  private final Map<String, Boolean> tenantsWithUsageGauges = new ConcurrentHashMap<>();
  private volatile Dispatcher dispatcher;

  private DispatchMetrics(Builder b) {
    this.registry = b.registry;
    this.commonTags = b.tags;
    this.clock = b.clock;
    this.blocks = new OfferBlocks(clock);
  }

  /** A builder recording into {@code registry}. */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /**
   * Lets these metrics ask {@code dispatcher} about what no event says: the tenant of a job
   * recovered from a durable store (whose submission this listener never saw), and each tenant's
   * accelerators and spend per hour ({@code tenant.devices}, {@code tenant.spend.rate}). Does not
   * add the listener: pass this to the builder's {@code listener(...)} so that events from the
   * dispatcher's start, recovery included, are counted too.
   *
   * @return this
   * @throws IllegalStateException when already bound to another dispatcher
   */
  public DispatchMetrics bindTo(Dispatcher dispatcher) {
    Objects.requireNonNull(dispatcher, "dispatcher");
    synchronized (this) {
      if (this.dispatcher != null && this.dispatcher != dispatcher) {
        throw new IllegalStateException("dispatcher: these metrics are already bound to another dispatcher");
      }
      this.dispatcher = dispatcher;
      for (String tenant : new ArrayList<>(tenantsWithUsageGauges.keySet())) {
        registerUsageGauges(tenant);
      }
    }
    return this;
  }

  /**
   * Wraps {@code provider} so that each of its calls is timed into {@code provider.calls}, tagged
   * with its outcome and, on failure, the failure kind. Wire the wrapper instead of the provider;
   * it answers exactly as the provider does.
   */
  public Provider instrument(Provider provider) {
    return new MeteredProvider(Objects.requireNonNull(provider, "provider"), registry, commonTags, clock);
  }

  @Override
  public synchronized void onEvent(DispatchEvent event) {
    if (event instanceof DispatchEvent.JobSubmitted s) {
      onSubmitted(s);
    } else if (event instanceof DispatchEvent.JobStateChanged c) {
      onStateChanged(c);
    } else if (event instanceof DispatchEvent.AttemptStarted a) {
      onAttemptStarted(a);
    } else if (event instanceof DispatchEvent.AttemptEnded a) {
      onAttemptEnded(a);
    } else if (event instanceof DispatchEvent.Failover f) {
      onFailover(f);
    } else if (event instanceof DispatchEvent.ResourceReleased r) {
      counter("resources.released", "provider", r.providerId()).increment();
    } else if (event instanceof DispatchEvent.OrphanReleased o) {
      counter("orphans.released", "provider", o.providerId()).increment();
    }
  }

  private void onSubmitted(DispatchEvent.JobSubmitted s) {
    TrackedJob job = jobs.computeIfAbsent(s.jobId(), id -> new TrackedJob(s.tenant()));
    job.submittedAt = s.at();
    counter("jobs.submitted", "tenant", s.tenant()).increment();
    moveTo(job, JobState.QUEUED);
  }

  private void onStateChanged(DispatchEvent.JobStateChanged c) {
    TrackedJob job = jobs.computeIfAbsent(c.jobId(), id -> new TrackedJob(tenantOf(id)));
    if (c.from() == JobState.RUNNING && job.runningSince != null) {
      timer("jobs.run.time", "tenant", job.tenant, "provider", job.runningProvider, "end", lower(c.to()))
          .record(Duration.between(job.runningSince, c.at()));
      job.runningSince = null;
    }
    if (c.to() == JobState.RUNNING) {
      job.runningSince = c.at();
      job.runningProvider = job.providerOfRunningAttempt();
      if (job.submittedAt != null) {
        timer("jobs.time.to.start", "tenant", job.tenant, "provider", job.runningProvider)
            .record(Duration.between(job.submittedAt, c.at()));
        job.submittedAt = null;
      }
    }
    moveTo(job, c.to());
    if (c.to().isTerminal()) {
      counter("jobs.ended", "tenant", job.tenant, "state", lower(c.to())).increment();
      forgetIfDone(c.jobId(), job);
    }
  }

  private void onAttemptStarted(DispatchEvent.AttemptStarted a) {
    TrackedJob job = jobs.computeIfAbsent(a.jobId(), id -> new TrackedJob(tenantOf(id)));
    job.liveAttempts.put(a.attempt(), new LiveAttempt(a.offer(), a.at()));
    counter("attempts.started", "provider", a.offer().providerId(), "zone", a.offer().zone(), "tier", tier(a.spot()))
        .increment();
  }

  private void onAttemptEnded(DispatchEvent.AttemptEnded a) {
    Offer offer = a.offer();
    String provider = offer.providerId();
    String outcome = a.outcome() == null ? UNKNOWN : lower(a.outcome());
    counter("attempts.ended", "provider", provider, "zone", offer.zone(), "tier", tier(a.spot()), "outcome", outcome)
        .increment();
    if (a.outcome() == AttemptOutcome.PREEMPTED || a.outcome() == AttemptOutcome.LOST) {
      counter("preemptions", "provider", provider, "zone", offer.zone(), "outcome", outcome).increment();
    }
    TrackedJob job = jobs.get(a.jobId());
    String tenant = job != null ? job.tenant : tenantOf(a.jobId());
    if (a.cost() != null && a.cost().amount().signum() > 0) {
      Counter.builder(PREFIX + "cost").baseUnit("usd")
          .description("What ended attempts cost, price times time held")
          .tags(commonTags).tags("tenant", tenant, "provider", provider, "tier", tier(a.spot()))
          .register(registry).increment(a.cost().toDouble());
    }
    if (job != null) {
      LiveAttempt started = job.liveAttempts.remove(a.attempt());
      if (started != null) {
        timer("attempts.duration", "provider", provider, "outcome", outcome).record(Duration.between(started.at, a.at()));
      }
      forgetIfDone(a.jobId(), job);
    }
  }

  private void onFailover(DispatchEvent.Failover f) {
    Offer offer = f.offer();
    counter("failovers", "provider", offer.providerId(), "zone", offer.zone(), "reason", f.kind()).increment();
    if (f.blockedUntil() != null) {
      counter("offers.blocks", "provider", offer.providerId(), "zone", offer.zone(), "reason", f.kind()).increment();
      if (blocks.block(offer, f.blockedUntil())) {
        Gauge.builder(PREFIX + "offers.blocked", blocks, b -> b.blockedNow(offer.providerId()))
            .description("Offers the dispatcher avoids right now after a stockout or quota failure")
            .tags(commonTags).tag("provider", offer.providerId()).register(registry);
      }
    }
  }

  private void moveTo(TrackedJob job, JobState to) {
    if (job.state != null && !job.state.isTerminal()) {
      activeGauge(job.tenant, job.state).decrementAndGet();
    }
    job.state = to;
    if (!to.isTerminal()) {
      activeGauge(job.tenant, to).incrementAndGet();
    }
  }

  /** A job is forgotten once it ended and none of its attempts is still live (a cancel ends the job first). */
  private void forgetIfDone(String jobId, TrackedJob job) {
    if (job.state != null && job.state.isTerminal() && job.liveAttempts.isEmpty()) {
      jobs.remove(jobId);
    }
  }

  private AtomicInteger activeGauge(String tenant, JobState state) {
    return active.computeIfAbsent(List.of(tenant, lower(state)), k -> {
      AtomicInteger count = new AtomicInteger();
      Gauge.builder(PREFIX + "jobs.active", count, AtomicInteger::get)
          .description("Unfinished jobs by tenant and state")
          .tags(commonTags).tags("tenant", tenant, "state", k.get(1)).register(registry);
      if (tenantsWithUsageGauges.putIfAbsent(tenant, Boolean.TRUE) == null && dispatcher != null) {
        registerUsageGauges(tenant);
      }
      return count;
    });
  }

  private void registerUsageGauges(String tenant) {
    Dispatcher d = dispatcher;
    Gauge.builder(PREFIX + "tenant.devices", d, x -> x.usage(tenant).devicesInUse())
        .description("Accelerators the tenant holds now").tags(commonTags).tag("tenant", tenant).register(registry);
    Gauge.builder(PREFIX + "tenant.spend.rate", d, x -> x.usage(tenant).hourlySpend().toDouble())
        .description("What the tenant's live attempts cost per hour").baseUnit("usd.per.hour")
        .tags(commonTags).tag("tenant", tenant).register(registry);
  }

  private String tenantOf(String jobId) {
    Dispatcher d = dispatcher;
    if (d == null) {
      return UNKNOWN;
    }
    Optional<String> tenant = d.job(jobId).map(h -> h.spec().tenant());
    return tenant.orElse(UNKNOWN);
  }

  private Counter counter(String name, String... tags) {
    return Counter.builder(PREFIX + name).tags(commonTags).tags(tags).register(registry);
  }

  private Timer timer(String name, String... tags) {
    return Timer.builder(PREFIX + name).tags(commonTags).tags(tags).register(registry);
  }

  private static String tier(boolean spot) {
    return spot ? "spot" : "on-demand";
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  /** What these metrics remember of one unfinished job; touched only under the listener's lock. */
  private static final class TrackedJob {
    final String tenant;
    final Map<Integer, LiveAttempt> liveAttempts = new HashMap<>();
    JobState state;
    Instant submittedAt;
    Instant runningSince;
    String runningProvider = UNKNOWN;

    TrackedJob(String tenant) {
      this.tenant = tenant;
    }

    /**
     * The provider of the attempt that runs. The event does not say which attempt it is; with one
     * live attempt there is no doubt, with hedged attempts still live the newest is the best guess
     * only when they share a provider.
     */
    String providerOfRunningAttempt() {
      String provider = null;
      for (LiveAttempt a : liveAttempts.values()) {
        if (provider == null) {
          provider = a.offer.providerId();
        } else if (!provider.equals(a.offer.providerId())) {
          return UNKNOWN;
        }
      }
      return provider == null ? UNKNOWN : provider;
    }
  }

  private record LiveAttempt(Offer offer, Instant at) {}

  /** Builds {@link DispatchMetrics}. Not thread-safe; {@link #build()} copies every setting. */
  public static final class Builder {
    private final MeterRegistry registry;
    private Tags tags = Tags.empty();
    private Clock clock = Clock.systemUTC();

    private Builder(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Tags added to every meter, for example the fleet id when several dispatchers share a registry. */
    public Builder tags(Iterable<Tag> tags) {
      this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
      return this;
    }

    /**
     * The time source of the provider call timer and the blocked-offers gauge; pass the
     * dispatcher's scheduler clock in virtual time. Default the system clock.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The metrics, ready to be added as a listener. */
    public DispatchMetrics build() {
      return new DispatchMetrics(this);
    }
  }

  /** Exposed for the package's tests: jobs still tracked, to prove nothing is kept after a job ends. */
  synchronized int trackedJobs() {
    return jobs.size();
  }
}
