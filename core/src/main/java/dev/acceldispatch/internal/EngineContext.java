package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.Offer;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * What the engine's parts share: the settings, the clock and scheduler, the job table, the
 * listeners, and the plumbing every part uses (posting a task, emitting an event, logging with the
 * job in MDC). The parts themselves are set once, when {@link DispatchEngine} wires them, so that
 * each can hand work to the part that owns it.
 *
 * <p>Threading: all engine state changes happen in tasks on the {@link TaskScheduler}, which runs
 * them one at a time, so the parts need no locks for their own state. Provider calls, which
 * block, run on the provider executor through each provider's {@link ProviderGateway}; their
 * results are posted back as tasks.
 */
final class EngineContext implements JobRun.Host {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);

  final EngineConfig cfg;
  final TaskScheduler scheduler;
  final Map<String, ProviderGateway> gateways;
  final OfferKeys keys;
  final OfferHealth health;
  final Placement placement;
  final TenantLedger ledger;
  final JobQueue queue = new JobQueue();
  /** Jobs this engine runs (until their result completes), by id. */
  final Map<String, JobRun> jobs = new ConcurrentHashMap<>();
  /** Machines held per offer key, for offers of finite capacity. */
  final Map<String, Integer> liveByOffer = new ConcurrentHashMap<>();
  final AtomicInteger unfinished = new AtomicInteger();
  final AtomicBoolean closed = new AtomicBoolean();
  private final List<DispatchListener> listeners = new CopyOnWriteArrayList<>();

  JobOwnership ownership;
  JobLifecycle lifecycle;
  DispatchPass pass;
  AttemptLauncher launcher;
  StatusPoller poller;
  Releaser releaser;
  Recovery recovery;

  EngineContext(EngineConfig cfg, TaskScheduler scheduler, Map<String, ProviderGateway> gateways, OfferKeys keys,
      OfferHealth health, Placement placement) {
    this.cfg = cfg;
    this.scheduler = scheduler;
    this.gateways = gateways;
    this.keys = keys;
    this.health = health;
    this.placement = placement;
    this.ledger = new TenantLedger(cfg.tenants());
    this.listeners.addAll(cfg.listeners());
  }

  @Override
  public Instant now() {
    return scheduler.clock().instant();
  }

  @Override
  public boolean cancel(JobRun job) {
    if (job.state().isTerminal()) {
      return false;
    }
    post(() -> lifecycle.finish(job, dev.acceldispatch.JobState.CANCELLED, "cancelled by the host"));
    return true;
  }

  void addListener(DispatchListener l) {
    listeners.add(l);
  }

  ProviderGateway gateway(String providerId) {
    return gateways.get(providerId);
  }

  /** Counts a machine held on {@code o} (a slot of a finite offer). */
  void slotTaken(Offer o) {
    liveByOffer.merge(keys.of(o), 1, Integer::sum);
  }

  /** A machine held on {@code o} is gone. */
  void slotFreed(Offer o) {
    liveByOffer.computeIfPresent(keys.of(o), (k, v) -> v <= 1 ? null : v - 1);
  }

  void emit(DispatchEvent e) {
    for (DispatchListener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException ex) {
        log.warn("a dispatch listener threw on {}; ignored", e.getClass().getSimpleName(), ex);
      }
    }
  }

  /** Runs {@code task} on the engine thread, after the tasks already due. */
  void post(Runnable task) {
    scheduler.schedule(guarded(task), Duration.ZERO);
  }

  TaskScheduler.Cancellable schedule(Runnable task, Duration delay) {
    return scheduler.schedule(guarded(task), delay);
  }

  /** A task that logs what it throws instead of killing the scheduler's thread. */
  static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (JobLifecycle.LeaseLostException e) {
        log.debug("{}", e.getMessage());
      } catch (RuntimeException e) {
        log.error("dispatch engine task failed", e);
      }
    };
  }

  static void withMdc(JobRun job, Attempt a, Runnable r) {
    try (MDC.MDCCloseable j = MDC.putCloseable("jobId", job.id())) {
      if (a == null) {
        r.run();
        return;
      }
      try (MDC.MDCCloseable n = MDC.putCloseable("attempt", Integer.toString(a.number()));
          MDC.MDCCloseable p = MDC.putCloseable("provider", a.offer().providerId());
          MDC.MDCCloseable z = MDC.putCloseable("zone", a.offer().zone())) {
        r.run();
      }
    }
  }

  static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** What a provider call failed with, as the taxonomy the engine acts on. */
  static ProviderException asProviderException(Throwable err, Offer o) {
    Throwable e = unwrap(err);
    if (e instanceof ProviderException pe) {
      return pe;
    }
    return new ProviderException.Transient(o.providerId(), o.zone(), e.getClass().getSimpleName(), String.valueOf(e.getMessage()), e);
  }
}
