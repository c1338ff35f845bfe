package dev.acceldispatch.internal;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobPage;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Plan;
import dev.acceldispatch.PlannedOffer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.TenantUsage;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.PlacementCandidate;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher: a facade that wires the engine's parts, each owning one lifecycle, and serves
 * the host's calls. {@link Admission} admits and stores jobs, {@link DispatchPass} places them,
 * {@link AttemptLauncher} creates machines and fails over, {@link StatusPoller} tracks them,
 * {@link JobLifecycle} moves jobs through their states to their end, {@link Releaser} and {@link
 * OrphanReconciler} give machines back, {@link JobOwnership} and {@link Recovery} decide and take
 * over which stored jobs this engine runs. See {@link EngineContext} for the threading.
 */
public final class DispatchEngine implements Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);
  private static final int OWN_PROVIDER_THREADS = 16;

  private final EngineContext ctx;
  private final Admission admission;
  private final OrphanReconciler reconciler;
  private final SystemTaskScheduler ownedScheduler;
  private final ExecutorService ownedExecutor;

  private DispatchEngine(EngineConfig cfg) {
    // Probed before anything is started, so that a rejected probe leaves no thread behind. The
    // dispatcher's own pool never runs inline.
    boolean callsRunInline = cfg.providerExecutor() != null && runsInline(cfg.providerExecutor());
    String instanceId = cfg.fleetId() + "-" + ResourceNames.newJobId().substring(1, 9);
    ownedScheduler = cfg.scheduler() == null ? new SystemTaskScheduler("accel-dispatch-" + cfg.fleetId()) : null;
    TaskScheduler scheduler = ownedScheduler != null ? ownedScheduler : cfg.scheduler();
    ownedExecutor = cfg.providerExecutor() == null ? newProviderPool() : null;
    Executor executor = ownedExecutor != null ? ownedExecutor : cfg.providerExecutor();
    FailsafeSchedulerAdapter adapter = new FailsafeSchedulerAdapter(scheduler, executor);
    Map<String, ProviderGateway> gateways = new LinkedHashMap<>();
    List<Offer> offers = new ArrayList<>();
    Map<String, Set<Secret.Kind>> secretKinds = new LinkedHashMap<>();
    long seed = 1;
    for (Provider p : cfg.providers()) {
      if (p instanceof SecretDelivery d) {
        Set<Secret.Kind> kinds = d.deliverableSecretKinds();
        if (kinds == null) {
          throw new IllegalStateException("provider " + p.id() + " returned null from deliverableSecretKinds()");
        }
        secretKinds.put(p.id(), Set.copyOf(kinds));
      }
      ProviderLimits limits = cfg.limits().getOrDefault(p.id(), p.limits());
      gateways.put(p.id(), new ProviderGateway(p, limits, adapter, scheduler, seed++, callsRunInline));
      for (Offer o : p.offers()) {
        if (!o.providerId().equals(p.id())) {
          throw new IllegalStateException("provider " + p.id() + " published an offer of provider " + o.providerId() + ": " + o);
        }
        offers.add(o);
      }
    }
    for (String id : cfg.limits().keySet()) {
      if (!gateways.containsKey(id)) {
        throw new IllegalArgumentException("providerLimits: no provider with id '" + id + "' is wired");
      }
    }
    OfferKeys keys = new OfferKeys(offers);
    OfferHealth health = new OfferHealth(cfg.defaultSpotPreemptionsPerHour(), keys);
    Placement placement = new Placement(offers, keys, cfg.placementPolicy(), health, cfg.checkpointRestartOverhead(),
        o -> gateways.get(o.providerId()).isOpen(o.region()), secretKinds);
    ctx = new EngineContext(cfg, scheduler, Map.copyOf(gateways), keys, health, placement);
    AtomicLong sequence = new AtomicLong();
    JobStore store = cfg.store() == null ? new InMemoryJobStore() : cfg.store();
    ctx.ownership = JobOwnership.of(store, ctx, instanceId);
    ctx.lifecycle = new JobLifecycle(ctx);
    ctx.pass = new DispatchPass(ctx);
    ctx.launcher = new AttemptLauncher(ctx);
    ctx.poller = new StatusPoller(ctx);
    ctx.releaser = new Releaser(ctx);
    ctx.recovery = new Recovery(ctx, sequence);
    admission = new Admission(ctx, sequence);
    reconciler = new OrphanReconciler(ctx);
  }

  private static ExecutorService newProviderPool() {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(OWN_PROVIDER_THREADS, OWN_PROVIDER_THREADS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "accel-dispatch-provider-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * Whether {@code executor} runs a task on the calling thread before {@code execute} returns, as
   * {@code Runnable::run} does. Probed once with an empty task.
   *
   * @throws IllegalArgumentException when the executor rejects the probe (it is shut down)
   */
  static boolean runsInline(Executor executor) {
    Thread caller = Thread.currentThread();
    boolean[] ranHere = {false};
    try {
      executor.execute(() -> ranHere[0] = Thread.currentThread() == caller);
    } catch (RejectedExecutionException e) {
      throw new IllegalArgumentException("providerExecutor rejected a task (is it shut down?): " + e.getMessage(), e);
    }
    return ranHere[0];
  }

  /** Builds, recovers unfinished jobs from the store, and starts the reconciler. */
  public static Dispatcher start(EngineConfig config) {
    DispatchEngine engine = new DispatchEngine(config);
    engine.ctx.post(engine.ctx.ownership::start);
    engine.ctx.post(engine.reconciler::runAndReschedule);
    return engine;
  }

  @Override
  public JobHandle submit(JobSpec spec) {
    return admission.submit(spec);
  }

  @Override
  public Optional<JobHandle> job(String jobId) {
    JobRun live = ctx.jobs.get(jobId);
    if (live != null) {
      return Optional.of(live);
    }
    return ctx.ownership.store().find(jobId).map(r -> new StoredJobHandle(ctx, r.id()));
  }

  @Override
  public JobPage jobs(JobQuery query) {
    return JobPage.of(java.util.Objects.requireNonNull(query, "query"), ctx.ownership.store().query(query));
  }

  @Override
  public Plan plan(JobSpec spec) {
    Instant now = ctx.now();
    Placement.Evaluation ev = ctx.placement.evaluate(spec, 0, Map.of(), Money.ZERO, ctx.liveByOffer, now);
    if (ev.neverFeasible()) {
      throw new NoFeasibleOfferException(spec.name(), ev.excludedLines());
    }
    List<PlannedOffer> ranked = new ArrayList<>();
    int rank = 1;
    for (Placement.Ranked r : ctx.placement.rank(spec, ev.available, true)) {
      PlacementCandidate c = r.candidate();
      ranked.add(new PlannedOffer(rank++, c.offer(), c.spot(), c.estimatedRunTime(), c.estimatedCost(), c.expectedTimeToStart(),
          r.score(), r.reason()));
    }
    List<String> excluded = new ArrayList<>(ev.excludedLines());
    for (Placement.Unavailable u : ev.unavailable) {
      excluded.add(u.offer().key() + (u.spot() ? " (spot)" : "") + ": " + u.why().get());
    }
    return new Plan(spec.name(), ranked, excluded);
  }

  @Override
  public TenantUsage usage(String tenant) {
    Instant now = ctx.now();
    return ctx.ledger.usage(tenant, ctx.ledger.liveSpend(tenant, now), now);
  }

  @Override
  public void addListener(DispatchListener listener) {
    ctx.addListener(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public void close() {
    if (!ctx.closed.compareAndSet(false, true)) {
      return;
    }
    List<CompletableFuture<JobResult>> waiting = new ArrayList<>();
    if (!ctx.ownership.store().isDurable()) {
      for (JobRun j : ctx.jobs.values()) {
        waiting.add(j.result());
      }
      ctx.post(() -> {
        for (JobRun j : new ArrayList<>(ctx.jobs.values())) {
          ctx.lifecycle.finish(j, JobState.CANCELLED, "the dispatcher was closed");
        }
      });
    }
    if (ownedScheduler != null) {
      try {
        CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new))
            .get(ctx.cfg.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        log.warn("closing: {} jobs' releases did not finish within {}; their resources carry fleet id '{}' for the reconciler",
            waiting.stream().filter(f -> !f.isDone()).count(), ctx.cfg.shutdownTimeout(), ctx.cfg.fleetId());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        log.warn("closing: a job failed while releasing", e);
      }
      ownedScheduler.close(ctx.cfg.shutdownTimeout());
    }
    // Leased jobs are handed over before close returns, rather than after their leases run out;
    // on this thread, since the engine's own may be stopped already (a task posted to it was
    // dropped, and the leases with it).
    ctx.ownership.handBack(new ArrayList<>(ctx.jobs.values()));
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }
}
