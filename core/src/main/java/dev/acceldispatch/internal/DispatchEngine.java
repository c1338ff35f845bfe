package dev.acceldispatch.internal;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.DispatcherClosedException;
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
import dev.acceldispatch.QueueFullException;
import dev.acceldispatch.TenantUsage;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.PlacementCandidate;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.TaskScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The dispatch engine: queue, admission, placement, provisioning with failover, tracking,
 * preemption recovery, release, accounting and events.
 *
 * <p>Threading: all engine state changes happen in tasks on the {@link TaskScheduler}, which runs
 * them one at a time, so the engine needs no locks for its own state. Provider calls, which block,
 * run on the provider executor through each provider's {@link ProviderGateway}; their results are
 * posted back as tasks. Hosts' threads only validate, write the store, post tasks, and read
 * volatile snapshots.
 */
public final class DispatchEngine implements Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);
  private static final int SCAN_PER_TENANT = 64;
  private static final Duration TRANSIENT_BLOCK = Duration.ofMinutes(1);
  private static final Duration IDLE_RECHECK = Duration.ofMinutes(5);

  private final EngineConfig cfg;
  private final TaskScheduler scheduler;
  private final SystemTaskScheduler ownedScheduler;
  private final ExecutorService ownedExecutor;
  private final JobStore store;
  private final Map<String, ProviderGateway> gateways = new LinkedHashMap<>();
  private final OfferHealth health;
  private final OfferKeys keys;
  private final Placement placement;
  private final TenantLedger ledger;
  private final JobQueue queue = new JobQueue();
  private final Map<String, JobRun> jobs = new ConcurrentHashMap<>();
  private final Map<String, Integer> liveByOffer = new ConcurrentHashMap<>();
  private final List<DispatchListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, ProvisionedResource> backgroundReleases = new LinkedHashMap<>();
  private final AtomicInteger unfinished = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final String instanceId;
  private boolean passScheduled;
  private Instant wakeUpAt;
  private TaskScheduler.Cancellable wakeUp;

  private DispatchEngine(EngineConfig cfg) {
    this.cfg = cfg;
    // Probed before anything is started, so that a rejected probe leaves no thread behind. The
    // dispatcher's own pool never runs inline.
    boolean callsRunInline = cfg.providerExecutor() != null && runsInline(cfg.providerExecutor());
    this.instanceId = cfg.fleetId() + "-" + newJobId().substring(1, 9);
    if (cfg.scheduler() == null) {
      ownedScheduler = new SystemTaskScheduler("accel-dispatch-" + cfg.fleetId());
      scheduler = ownedScheduler;
    } else {
      ownedScheduler = null;
      scheduler = cfg.scheduler();
    }
    Executor executor;
    if (cfg.providerExecutor() == null) {
      AtomicInteger n = new AtomicInteger();
      ThreadPoolExecutor pool =
          new ThreadPoolExecutor(
              16, 16, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
              r -> {
                Thread t = new Thread(r, "accel-dispatch-provider-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      pool.allowCoreThreadTimeOut(true);
      ownedExecutor = pool;
      executor = pool;
    } else {
      ownedExecutor = null;
      executor = cfg.providerExecutor();
    }
    this.store = cfg.store() == null ? new InMemoryJobStore() : cfg.store();
    this.ledger = new TenantLedger(cfg.tenants());
    this.listeners.addAll(cfg.listeners());
    FailsafeSchedulerAdapter adapter = new FailsafeSchedulerAdapter(scheduler, executor);
    List<Offer> offers = new ArrayList<>();
    long seed = 1;
    for (Provider p : cfg.providers()) {
      ProviderLimits limits = cfg.limits().getOrDefault(p.id(), p.limits());
      gateways.put(p.id(), new ProviderGateway(p, limits, adapter, scheduler, seed++, callsRunInline));
      for (Offer o : p.offers()) {
        if (!o.providerId().equals(p.id())) {
          throw new IllegalStateException(
              "provider " + p.id() + " published an offer of provider " + o.providerId() + ": " + o);
        }
        offers.add(o);
      }
    }
    for (String id : cfg.limits().keySet()) {
      if (!gateways.containsKey(id)) {
        throw new IllegalArgumentException("providerLimits: no provider with id '" + id + "' is wired");
      }
    }
    this.keys = new OfferKeys(offers);
    this.health = new OfferHealth(cfg.defaultSpotPreemptionsPerHour(), keys);
    this.placement = new Placement(offers, keys, cfg.placementPolicy(), health, cfg.checkpointRestartOverhead(),
        o -> gateways.get(o.providerId()).isOpen(o.region()));
  }

  /**
   * Whether {@code executor} runs a task on the calling thread before {@code execute} returns, as
   * {@code Runnable::run} does. Probed once with an empty task.
   */
  public static boolean runsInline(Executor executor) {
    Thread caller = Thread.currentThread();
    boolean[] ranHere = {false};
    try {
      executor.execute(() -> {
        if (Thread.currentThread() == caller) {
          ranHere[0] = true;
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IllegalArgumentException("providerExecutor rejected a task (is it shut down?): " + e.getMessage(), e);
    }
    return ranHere[0];
  }

  /** Builds, recovers unfinished jobs from the store, and starts the reconciler. */
  public static Dispatcher start(EngineConfig config) {
    DispatchEngine engine = new DispatchEngine(config);
    engine.post(engine::recover);
    engine.post(engine::reconcileAndReschedule);
    return engine;
  }

  Instant now() {
    return scheduler.clock().instant();
  }

  // ---- host-facing API ----------------------------------------------------------------------------

  @Override
  public JobHandle submit(JobSpec spec) {
    if (closed.get()) {
      throw new DispatcherClosedException();
    }
    Placement.Evaluation ev = placement.evaluate(spec, 0, Set.of(), Money.ZERO, Map.of(), now());
    if (ev.neverFeasible()) {
      throw new NoFeasibleOfferException(spec.name(), ev.excludedLines());
    }
    if (unfinished.incrementAndGet() > cfg.maxQueuedJobs()) {
      unfinished.decrementAndGet();
      throw new QueueFullException(cfg.maxQueuedJobs());
    }
    Instant now = now();
    JobRun job;
    while (true) {
      String id = newJobId();
      job = new JobRun(this, id, spec, JobState.QUEUED, now, sequence.incrementAndGet());
      job.message = "queued";
      // Known to this engine before it is in the store, so that recovery, which adopts what the
      // store holds and this engine does not know, can never take a job being submitted.
      if (jobs.putIfAbsent(id, job) != null) {
        continue;
      }
      try {
        if (store.supportsLeases()) {
          store.insertLeased(job.toRecord(now), instanceId, now.plus(cfg.leaseDuration()));
        } else {
          store.insert(job.toRecord(now));
        }
        job.stored = true;
        break;
      } catch (IllegalStateException duplicateId) {
        // a random id collided with a stored job: draw another
        jobs.remove(id, job);
      } catch (RuntimeException e) {
        jobs.remove(id, job);
        unfinished.decrementAndGet();
        throw e;
      }
    }
    JobRun admitted = job;
    post(() -> admit(admitted));
    return job;
  }

  @Override
  public Optional<JobHandle> job(String jobId) {
    JobRun live = jobs.get(jobId);
    if (live != null) {
      return Optional.of(live);
    }
    return store.find(jobId).map(r -> new StoredJobHandle(r.id()));
  }

  @Override
  public JobPage jobs(JobQuery query) {
    return JobPage.of(java.util.Objects.requireNonNull(query, "query"), store.query(query));
  }

  @Override
  public Plan plan(JobSpec spec) {
    Instant now = now();
    Placement.Evaluation ev = placement.evaluate(spec, 0, Set.of(), Money.ZERO, liveByOffer, now);
    if (ev.neverFeasible()) {
      throw new NoFeasibleOfferException(spec.name(), ev.excludedLines());
    }
    List<PlannedOffer> ranked = new ArrayList<>();
    int rank = 1;
    for (Placement.Ranked r : placement.rank(spec, ev.available, true)) {
      PlacementCandidate c = r.candidate();
      ranked.add(
          new PlannedOffer(rank++, c.offer(), c.spot(), c.estimatedRunTime(), c.estimatedCost(), c.expectedTimeToStart(), r.score(), r.reason()));
    }
    List<String> excluded = new ArrayList<>(ev.excludedLines());
    for (Placement.Unavailable u : ev.unavailable) {
      excluded.add(u.offer().key() + (u.spot() ? " (spot)" : "") + ": " + u.why().get());
    }
    return new Plan(spec.name(), ranked, excluded);
  }

  @Override
  public TenantUsage usage(String tenant) {
    Instant now = now();
    return ledger.usage(tenant, ledger.liveSpend(tenant, now), now);
  }

  @Override
  public void addListener(DispatchListener listener) {
    listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  boolean cancel(JobRun job) {
    if (job.state().isTerminal()) {
      return false;
    }
    post(() -> finishJob(job, JobState.CANCELLED, "cancelled by the host"));
    return true;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<CompletableFuture<JobResult>> waiting = new ArrayList<>();
    if (store.supportsLeases()) {
      // Hand the jobs over at once rather than after the lease runs out.
      post(() -> {
        for (JobRun j : new ArrayList<>(jobs.values())) {
          if (!j.state().isTerminal()) {
            try {
              store.releaseLease(instanceId, j.id);
            } catch (RuntimeException e) {
              log.warn("closing: could not give back the lease of {}; it expires on its own", j.id, e);
            }
          }
        }
      });
    }
    if (!store.isDurable()) {
      for (JobRun j : jobs.values()) {
        waiting.add(j.resultFuture());
      }
      post(
          () -> {
            for (JobRun j : new ArrayList<>(jobs.values())) {
              finishJob(j, JobState.CANCELLED, "the dispatcher was closed");
            }
          });
    }
    if (ownedScheduler != null) {
      try {
        CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new))
            .get(cfg.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        log.warn("closing: {} jobs' releases did not finish within {}; their resources carry fleet id '{}' for the reconciler",
            waiting.stream().filter(f -> !f.isDone()).count(), cfg.shutdownTimeout(), cfg.fleetId());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException e) {
        log.warn("closing: a job failed while releasing", e);
      }
      ownedScheduler.close();
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  // ---- engine thread: admission and placement -----------------------------------------------------

  private void admit(JobRun job) {
    if (job.state().isTerminal()) {
      return;
    }
    emit(new DispatchEvent.JobSubmitted(now(), job.id, job.spec.name(), job.spec.tenant()));
    armTimers(job);
    enqueue(job);
    requestPass();
  }

  private void armTimers(JobRun job) {
    Instant now = now();
    job.spec.timeout().ifPresent(
        t -> job.timers.add(
            scheduler.schedule(
                guarded(() -> finishJob(job, JobState.FAILED, "timed out: not finished within " + t + " of submission")),
                Duration.between(now, job.submittedAt.plus(t)))));
    job.spec.startDeadline().ifPresent(
        d -> job.timers.add(
            scheduler.schedule(
                guarded(() -> {
                  if (!job.everRan) {
                    String obstacle = job.waitReason.get();
                    finishJob(job, JobState.FAILED, "did not start within its startDeadline of " + d
                        + (obstacle.isEmpty() ? "" : "; last obstacle: " + obstacle));
                  }
                }),
                Duration.between(now, job.submittedAt.plus(d)))));
  }

  private void enqueue(JobRun job) {
    job.waitUntil = null;
    if (!job.queued) {
      queue.add(job);
      ledger.queuedChanged(job.spec.tenant(), 1);
    }
  }

  private void dequeue(JobRun job) {
    if (job.queued) {
      queue.remove(job);
      ledger.queuedChanged(job.spec.tenant(), -1);
    }
  }

  private void requestPass() {
    if (!passScheduled) {
      passScheduled = true;
      post(this::dispatchPass);
    }
  }

  private enum PlaceResult { PLACED, WAIT, TENANT_BLOCKED, ENDED }

  /**
   * One pass over the queue: priorities from highest, and within a priority the tenant furthest
   * below its fair share goes next; each tenant's jobs in order, skipping those that cannot be
   * placed now.
   */
  private void dispatchPass() {
    passScheduled = false;
    if (closed.get()) {
      return;
    }
    Instant now = now();
    // A job that had to wait is not evaluated again in this pass: time stands still in a pass, and
    // what happens in it (placements, new blocks, opened breakers) takes offers away. The one
    // thing that gives one back, an attempt ending inline (which frees a slot of a finite offer),
    // also requests another pass, which looks at every job again. So after each placement the
    // rescan from the head of the queue skips those jobs (in a long stockout, dozens of them).
    Set<JobRun> waiting = new HashSet<>();
    for (int priority : queue.priorities()) {
      Set<String> done = new HashSet<>();
      while (true) {
        String tenant = null;
        double best = Double.MAX_VALUE;
        for (String t : queue.tenants(priority)) {
          if (done.contains(t)) {
            continue;
          }
          double key = ledger.fairShareKey(t, now);
          if (tenant == null || key < best || (key == best && t.compareTo(tenant) < 0)) {
            tenant = t;
            best = key;
          }
        }
        if (tenant == null) {
          break;
        }
        boolean placed = false;
        for (JobRun job : queue.head(priority, tenant, SCAN_PER_TENANT)) {
          if (waiting.contains(job) || (job.waitUntil != null && now.isBefore(job.waitUntil))) {
            continue;
          }
          PlaceResult r = tryPlace(job, now);
          if (r == PlaceResult.WAIT) {
            waiting.add(job);
          }
          if (r == PlaceResult.PLACED) {
            placed = true;
            break;
          }
          if (r == PlaceResult.TENANT_BLOCKED) {
            break;
          }
        }
        if (!placed) {
          done.add(tenant);
        }
      }
    }
    scheduleWakeUp(now);
  }

  private void scheduleWakeUp(Instant now) {
    if (queue.isEmpty()) {
      return;
    }
    // Wake up when the first block ends; and in any case look again a while later, because some
    // obstacles (an open circuit breaker, a tenant's spend) end without an event.
    Instant at = health.nextUnblock(now).map(t -> t.plusMillis(1)).orElse(now.plus(IDLE_RECHECK));
    if (at.isAfter(now.plus(IDLE_RECHECK))) {
      at = now.plus(IDLE_RECHECK);
    }
    if (wakeUpAt != null && !wakeUpAt.isAfter(at) && wakeUpAt.isAfter(now)) {
      return;
    }
    if (wakeUp != null) {
      wakeUp.cancel();
    }
    wakeUpAt = at;
    Instant due = at;
    wakeUp = scheduler.schedule(guarded(() -> {
      wakeUpAt = null;
      requestPass();
    }), Duration.between(now, due));
  }

  private PlaceResult tryPlace(JobRun job, Instant now) {
    if (job.staticFit == null || !job.staticFit.isFor(job.preemptions, job.excludedOffers)) {
      job.staticFit = placement.staticFit(job.spec, job.preemptions, job.excludedOffers);
    }
    Placement.Evaluation ev = placement.evaluate(job.spec, job.staticFit, job.closedCost(), liveByOffer, now);
    if (ev.neverFeasible()) {
      dequeue(job);
      finishJob(job, JobState.FAILED, "no offer can run it any more: " + String.join("; ", ev.excludedLines()));
      return PlaceResult.ENDED;
    }
    if (ev.available.isEmpty()) {
      job.waitUntil = ev.nothingBefore();
      job.waitReason = ev.unavailable.isEmpty() ? () -> "" : ev.unavailable.get(0).why();
      return PlaceResult.WAIT;
    }
    List<Placement.Ranked> ranked = placement.rank(job.spec, ev.available, false);
    String tenant = job.spec.tenant();
    Money liveSpend = ledger.liveSpend(tenant, now);
    List<PlacementCandidate> chosen = new ArrayList<>();
    Set<String> zones = new HashSet<>();
    String blocker = null;
    for (Placement.Ranked r : ranked) {
      PlacementCandidate c = r.candidate();
      if (!zones.add(c.offer().providerId() + "/" + c.offer().zone())) {
        continue;
      }
      int devices = c.offer().shape().acceleratorCount();
      String why = ledger.quotaBlocker(tenant, devices, c.hourlyPrice(), liveSpend, now);
      if (why != null) {
        blocker = why;
        if (chosen.isEmpty()) {
          continue;
        }
        break;
      }
      chosen.add(c);
      // Count the hedge at once so the next one is checked against the tenant's limits too.
      ledger.attemptStarted(tenant, devices, c.hourlyPrice(), now);
      if (chosen.size() >= job.spec.hedge()) {
        break;
      }
    }
    if (chosen.isEmpty()) {
      String why = blocker == null ? "" : blocker;
      job.waitReason = () -> why;
      return PlaceResult.TENANT_BLOCKED;
    }
    dequeue(job);
    List<Attempt> started = new ArrayList<>();
    for (PlacementCandidate c : chosen) {
      int n = job.nextAttemptNumber();
      Attempt a = new Attempt(n, c.offer(), c.spot(), resourceName(job.id, n), null, now, null, null, null, Money.ZERO, "");
      job.replace(a);
      started.add(a);
      liveByOffer.merge(keys.of(c.offer()), 1, Integer::sum);
    }
    setState(job, JobState.PROVISIONING, "provisioning " + started.get(0).offer().key()
        + (started.size() > 1 ? " and " + (started.size() - 1) + " hedges" : ""));
    for (Attempt a : started) {
      emit(new DispatchEvent.AttemptStarted(now, job.id, a.number(), a.offer(), a.spot(), a.resourceName()));
      launch(job, a);
    }
    return PlaceResult.PLACED;
  }

  private static String resourceName(String jobId, int attempt) {
    return "ad-" + jobId + "-a" + attempt;
  }

  private static String newJobId() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder("j");
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < 12; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  // ---- engine thread: provisioning and tracking ---------------------------------------------------

  private void launch(JobRun job, Attempt a) {
    Offer o = a.offer();
    Map<String, String> engineEnv = new LinkedHashMap<>();
    engineEnv.put("ACCEL_DISPATCH_JOB_ID", job.id);
    engineEnv.put("ACCEL_DISPATCH_ATTEMPT", Integer.toString(a.number()));
    job.spec.checkpointLocation().ifPresent(c -> engineEnv.put("ACCEL_DISPATCH_CHECKPOINT_DIR", c));
    Instant deadline = job.spec.startDeadline().map(job.submittedAt::plus).orElse(null);
    ProvisionRequest req =
        new ProvisionRequest(
            a.resourceName(), cfg.fleetId(), job.id, a.number(), o, a.spot(),
            job.spec.workload().withEngineEnv(engineEnv), job.spec.labels(), deadline);
    ProviderGateway gw = gateways.get(o.providerId());
    job.inFlightProvisions++;
    health.createStarted(o);
    int n = a.number();
    withMdc(job, a, () -> log.info("provisioning {} on {}{}", a.resourceName(), o.key(), a.spot() ? " (spot)" : ""));
    gw.call(o.region(), o.zone(), () -> gw.provider().provision(req))
        .whenComplete((res, err) -> post(() -> onProvisioned(job, n, res, err)));
  }

  private void onProvisioned(JobRun job, int n, ProvisionedResource res, Throwable err) {
    job.inFlightProvisions--;
    Attempt a = job.attempt(n);
    if (health.createEnded(a.offer(), err == null) && err == null) {
      // Jobs may be waiting for this offer's slow start to let another create through.
      requestPass();
    }
    if (!a.isLive()) {
      // Cancelled, timed out or outraced while the create was in flight: whatever it made goes.
      release(job, a, res != null ? res : ProvisionedResource.of(a.offer().providerId(), a.resourceName(), a.offer().zone()));
      maybeComplete(job);
      return;
    }
    if (err == null) {
      job.replace(new Attempt(n, a.offer(), a.spot(), a.resourceName(), res, a.startedAt(), null, null, null, Money.ZERO, ""));
      persist(job);
      job.pollDelay.put(n, cfg.pollInitial());
      schedulePoll(job, n, cfg.pollInitial());
      return;
    }
    onAttemptFailedToStart(job, n, asProviderException(err, a.offer()));
  }

  /** A create failed, or the cloud gave up on a resource that never ran: block, release, fail over. */
  private void onAttemptFailedToStart(JobRun job, int n, ProviderException e) {
    Instant now = now();
    Attempt a = job.attempt(n);
    Offer o = a.offer();
    AttemptOutcome outcome = AttemptOutcome.FAILED;
    Instant blockedUntil = null;
    AcceleratorShape shape = o.shape();
    if (e instanceof ProviderException.CapacityUnavailable) {
      outcome = AttemptOutcome.CAPACITY;
      blockedUntil = health.blockForCapacity(o, cfg.stockoutCoversLargerShapes(), now, cfg.capacityBlock(), cfg.capacityBlockMax(),
          "capacity: " + e.cloudCode());
    } else if (e instanceof ProviderException.QuotaExceeded q) {
      outcome = AttemptOutcome.QUOTA;
      blockedUntil = now.plus(cfg.quotaBlock());
      String why = "quota: " + e.cloudCode() + " (" + q.scope() + ")";
      switch (q.scope()) {
        case ZONE -> health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), null, null, blockedUntil, why));
        case REGION -> health.block(new OfferHealth.Block(o.providerId(), o.region(), null, null, null, blockedUntil, why));
        case PROVIDER -> health.block(new OfferHealth.Block(o.providerId(), null, null, null, null, blockedUntil, why));
      }
    } else if (e instanceof ProviderException.PermissionDenied) {
      blockedUntil = now.plus(cfg.quotaBlock());
      health.block(new OfferHealth.Block(o.providerId(), null, null, null, null, blockedUntil, e.kind() + ": " + e.cloudCode()));
    } else if (e instanceof ProviderException.InvalidRequest) {
      job.excludedOffers.add(keys.of(o));
    } else {
      blockedUntil = now.plus(TRANSIENT_BLOCK);
      health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), shape, null, blockedUntil, e.kind() + ": " + e.cloudCode()));
    }
    health.recordFailure(o, now);
    withMdc(job, a, () -> log.warn("job {} attempt {} on {} failed to start ({}): {}; failing over", job.id, n, o.key(), e.kind(), e.getMessage()));
    endAttempt(job, a, outcome, e.kind() + ": " + e.getMessage(), Money.ZERO, now);
    emit(new DispatchEvent.Failover(now, job.id, n, o, e.kind(), e.getMessage(), blockedUntil));
    // The create may have happened even though we saw an error (a lost response, a timeout):
    // release the name, which is a no-op when nothing exists.
    release(job, a, a.resource() != null ? a.resource() : ProvisionedResource.of(o.providerId(), a.resourceName(), o.zone()));
    afterAttemptEnded(job, "failed over from " + o.key() + " (" + e.kind() + ")");
  }

  private void schedulePoll(JobRun job, int n, Duration delay) {
    scheduler.schedule(guarded(() -> poll(job, n)), delay);
  }

  private void poll(JobRun job, int n) {
    Attempt a = job.attempt(n);
    if (a == null || !a.isLive() || a.resource() == null) {
      return;
    }
    ProviderGateway gw = gateways.get(a.offer().providerId());
    ProvisionedResource res = a.resource();
    if (gw.canCallOnceNow()) {
      ResourceStatus st;
      try {
        st = gw.callOnceNow(a.offer().region(), a.offer().zone(), () -> gw.provider().status(res));
      } catch (ProviderException e) {
        onStatus(job, n, null, e);
        return;
      }
      onStatus(job, n, st, null);
      return;
    }
    gw.callOnce(a.offer().region(), a.offer().zone(), () -> gw.provider().status(res))
        .whenComplete((st, err) -> post(() -> onStatus(job, n, st, err)));
  }

  private Duration nextPollDelay(JobRun job, int n) {
    Duration d = job.pollDelay.getOrDefault(n, cfg.pollInitial());
    Duration next = Duration.ofMillis(Math.min(cfg.pollMax().toMillis(), Math.round(d.toMillis() * 1.5)));
    job.pollDelay.put(n, next);
    return d;
  }

  private void onStatus(JobRun job, int n, ResourceStatus st, Throwable err) {
    Attempt a = job.attempt(n);
    if (a == null || !a.isLive()) {
      return;
    }
    Instant now = now();
    if (err != null) {
      ProviderException e = asProviderException(err, a.offer());
      if (e instanceof ProviderException.CapacityUnavailable || e instanceof ProviderException.QuotaExceeded) {
        onAttemptFailedToStart(job, n, e);
      } else {
        Attempt polled = a;
        withMdc(job, a, () -> log.warn("status of {} failed ({}), polling again: {}", polled.resourceName(), e.kind(), e.getMessage()));
        schedulePoll(job, n, nextPollDelay(job, n));
      }
      return;
    }
    switch (st.phase()) {
      case PENDING -> {
        if (Duration.between(a.startedAt(), now).compareTo(cfg.pendingTimeout()) > 0) {
          onAttemptFailedToStart(job, n, new ProviderException.CapacityUnavailable(
              a.offer().providerId(), a.offer().zone(), "PENDING_TIMEOUT",
              "still pending after " + cfg.pendingTimeout() + ": " + st.detail(), null));
        } else {
          schedulePoll(job, n, nextPollDelay(job, n));
        }
      }
      case RUNNING -> {
        if (a.runningAt() == null) {
          a = new Attempt(n, a.offer(), a.spot(), a.resourceName(), a.resource(), a.startedAt(), now, null, null, Money.ZERO, "");
          job.replace(a);
          job.everRan = true;
          ledger.attemptRunning(job.spec.tenant(), a.hourlyPrice(), now);
          health.recordLatency(a.offer().providerId(), Duration.between(a.startedAt(), now));
          health.recordStarted(a.offer());
          job.pollDelay.put(n, cfg.pollInitial());
          cancelOtherAttempts(job, n, "lost the hedge race to attempt " + n, now);
          setState(job, JobState.RUNNING, "running on " + a.offer().key() + (a.spot() ? " (spot)" : ""));
          Attempt started = a;
          withMdc(job, a, () -> log.info("running {} on {}", started.resourceName(), started.offer().key()));
        }
        if (job.spec.maxTotalCost().isPresent() && job.costAt(now).compareTo(job.spec.maxTotalCost().get()) >= 0) {
          finishJob(job, JobState.FAILED, "stopped: its cost reached maxTotalCost " + job.spec.maxTotalCost().get());
          return;
        }
        schedulePoll(job, n, nextPollDelay(job, n));
      }
      case SUCCEEDED, FAILED -> {
        Instant ranFrom = a.runningAt() != null ? a.runningAt() : a.startedAt();
        Money cost = a.hourlyPrice().perHourFor(Duration.between(ranFrom, now));
        if (a.runningAt() == null) {
          a = new Attempt(n, a.offer(), a.spot(), a.resourceName(), a.resource(), a.startedAt(), ranFrom, null, null, Money.ZERO, "");
          job.replace(a);
          job.everRan = true;
          ledger.attemptRunning(job.spec.tenant(), a.hourlyPrice(), ranFrom);
        }
        if (a.spot()) {
          health.recordSpotRun(a.offer(), Duration.between(ranFrom, now), false);
        }
        cancelOtherAttempts(job, n, "attempt " + n + " already ended", now);
        boolean ok = st.phase() == ResourceStatus.Phase.SUCCEEDED;
        endAttempt(job, a, ok ? AttemptOutcome.SUCCEEDED : AttemptOutcome.FAILED, st.detail(), cost, now);
        job.exitCode = st.exitCode();
        job.resultAttributes = st.attributes();
        release(job, a, a.resource());
        finishJob(job, ok ? JobState.SUCCEEDED : JobState.FAILED,
            ok ? "succeeded on " + a.offer().key() : "workload failed with exit code " + st.exitCode() + " on " + a.offer().key()
                + (st.detail().isEmpty() ? "" : ": " + st.detail()));
      }
      case PREEMPTED, GONE -> onLost(job, a, st, now);
    }
  }

  private void onLost(JobRun job, Attempt a, ResourceStatus st, Instant now) {
    boolean preempted = st.phase() == ResourceStatus.Phase.PREEMPTED;
    Instant ranFrom = a.runningAt() != null ? a.runningAt() : a.startedAt();
    Money cost = a.hourlyPrice().perHourFor(Duration.between(ranFrom, now));
    Offer o = a.offer();
    Instant until = now.plus(cfg.preemptionPenalty());
    if (a.spot()) {
      health.recordSpotRun(o, Duration.between(ranFrom, now), true);
      health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), o.shape(), true, until,
          (preempted ? "spot preemption" : "spot resource vanished") + " of attempt " + a.number()));
    } else {
      health.block(new OfferHealth.Block(o.providerId(), null, o.zone(), o.shape(), null, until,
          "resource lost in attempt " + a.number()));
    }
    health.recordFailure(o, now);
    job.preemptions++;
    String detail = (preempted ? "preempted" : "vanished") + (st.detail().isEmpty() ? "" : ": " + st.detail());
    withMdc(job, a, () -> log.warn("job {} attempt {} on {} {}", job.id, a.number(), o.key(), detail));
    endAttempt(job, a, preempted ? AttemptOutcome.PREEMPTED : AttemptOutcome.LOST, detail, cost, now);
    release(job, a, a.resource());
    if (!job.liveAttempts().isEmpty()) {
      persist(job);
      return;
    }
    if (job.preemptions > job.spec.preemptionBudget()) {
      finishJob(job, JobState.FAILED, "lost " + job.preemptions + " attempts to preemption or disappearance, over its preemptionBudget of "
          + job.spec.preemptionBudget());
      return;
    }
    afterAttemptEnded(job, "attempt " + a.number() + " " + detail + "; requeued (" + job.preemptions + " of "
        + job.spec.preemptionBudget() + " allowed)");
  }

  /** Ends every other live attempt of the job (losing hedges), releasing what they made. */
  private void cancelOtherAttempts(JobRun job, int keep, String why, Instant now) {
    for (Attempt other : job.liveAttempts()) {
      if (other.number() != keep) {
        stopAttempt(job, other, why, now);
      }
    }
  }

  /** Ends a live attempt as cancelled and releases its resource (or lets the in-flight create do it). */
  private void stopAttempt(JobRun job, Attempt a, String why, Instant now) {
    Instant ranFrom = a.runningAt();
    Money cost = ranFrom == null ? Money.ZERO : a.hourlyPrice().perHourFor(Duration.between(ranFrom, now));
    endAttempt(job, a, AttemptOutcome.CANCELLED, why, cost, now);
    if (a.resource() != null) {
      release(job, a, a.resource());
    }
    // With no resource yet, the create is in flight: onProvisioned releases whatever it returns.
  }

  private void endAttempt(JobRun job, Attempt a, AttemptOutcome outcome, String detail, Money cost, Instant now) {
    Attempt ended = new Attempt(a.number(), a.offer(), a.spot(), a.resourceName(), a.resource(), a.startedAt(), a.runningAt(), now, outcome, cost, detail);
    job.replace(ended);
    job.addClosedCost(cost);
    liveByOffer.computeIfPresent(keys.of(a.offer()), (k, v) -> v <= 1 ? null : v - 1);
    if (a.runningAt() != null) {
      ledger.attemptStoppedRunning(job.spec.tenant(), a.hourlyPrice(), a.runningAt());
    }
    ledger.attemptEnded(job.spec.tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), cost, now);
    job.publish();
    emit(new DispatchEvent.AttemptEnded(now, job.id, a.number(), a.offer(), a.spot(), outcome, cost, detail));
  }

  private void afterAttemptEnded(JobRun job, String reason) {
    if (job.state().isTerminal()) {
      maybeComplete(job);
      return;
    }
    if (!job.liveAttempts().isEmpty()) {
      persist(job);
      return;
    }
    setState(job, JobState.QUEUED, reason);
    enqueue(job);
    requestPass();
  }

  /** Ends the job in a terminal state: stops live attempts, releases, completes when released. */
  private void finishJob(JobRun job, JobState state, String message) {
    if (job.state().isTerminal()) {
      return;
    }
    Instant now = now();
    for (TaskScheduler.Cancellable t : job.timers) {
      t.cancel();
    }
    job.timers.clear();
    dequeue(job);
    for (Attempt a : job.liveAttempts()) {
      stopAttempt(job, a, message, now);
    }
    setState(job, state, message);
    unfinished.decrementAndGet();
    if (store.supportsLeases()) {
      store.releaseLease(instanceId, job.id);
    }
    withMdc(job, null, () -> log.info("job {} '{}' {}: {}", job.id, job.spec.name(), state, message));
    maybeComplete(job);
    requestPass();
  }

  private void maybeComplete(JobRun job) {
    if (job.state().isTerminal() && job.pendingReleases == 0 && job.inFlightProvisions == 0 && !job.resultFuture().isDone()) {
      jobs.remove(job.id);
      job.resultFuture().complete(job.toResult());
    }
  }

  // ---- engine thread: release, reconcile, recovery -------------------------------------------------

  private void release(JobRun job, Attempt a, ProvisionedResource res) {
    ProviderGateway gw = gateways.get(res.providerId());
    if (gw == null) {
      log.error("cannot release {}: provider {} is not wired", res.name(), res.providerId());
      return;
    }
    if (job != null) {
      job.pendingReleases++;
    }
    Offer o = a == null ? null : a.offer();
    String region = o == null ? res.zone() : o.region();
    gw.call(region, res.zone(), () -> {
          gw.provider().release(res);
          return Boolean.TRUE;
        })
        .whenComplete((v, err) -> post(() -> {
          if (job != null) {
            job.pendingReleases--;
          }
          if (err == null) {
            backgroundReleases.remove(res.providerId() + "/" + res.name());
            emit(new DispatchEvent.ResourceReleased(now(), job == null ? null : job.id, a == null ? 0 : a.number(), res.providerId(), res.name()));
          } else {
            log.warn("release of {} at {} failed, retrying every {}: {}", res.name(), res.providerId(),
                cfg.releaseRetryInterval(), unwrap(err).getMessage());
            scheduleBackgroundRelease(res);
          }
          if (job != null) {
            maybeComplete(job);
          }
        }));
  }

  private void scheduleBackgroundRelease(ProvisionedResource res) {
    String key = res.providerId() + "/" + res.name();
    if (backgroundReleases.put(key, res) == null) {
      scheduler.schedule(guarded(() -> retryBackgroundRelease(key)), cfg.releaseRetryInterval());
    }
  }

  private void retryBackgroundRelease(String key) {
    ProvisionedResource res = backgroundReleases.remove(key);
    if (res != null) {
      release(null, null, res);
    }
  }

  private void reconcileAndReschedule() {
    reconcile();
    if (!closed.get() || store.isDurable()) {
      scheduler.schedule(guarded(this::reconcileAndReschedule), cfg.reconcileInterval());
    }
  }

  /** Releases every resource of this fleet that no live attempt owns. */
  private void reconcile() {
    if (closed.get()) {
      return;
    }
    for (ProviderGateway gw : gateways.values()) {
      gw.callOnce("*", null, () -> gw.provider().listOwned(cfg.fleetId()))
          .whenComplete((list, err) -> post(() -> {
            if (err != null) {
              log.warn("reconciler could not list {}: {}", gw.provider().id(), unwrap(err).getMessage());
              return;
            }
            Set<String> ownedInStore = null;
            for (ProvisionedResource r : list) {
              if (ownedByLiveAttemptHere(r.name()) || backgroundReleases.containsKey(r.providerId() + "/" + r.name())) {
                continue;
              }
              if (store.isDurable() || store.supportsLeases()) {
                if (ownedInStore == null) {
                  ownedInStore = liveResourceNamesInStore();
                }
                if (ownedInStore.contains(r.name())) {
                  continue;
                }
              }
              log.info("reconciler: releasing {} at {} in {}: labelled with fleet '{}' but no live attempt owns it",
                  r.name(), r.providerId(), r.zone(), cfg.fleetId());
              emit(new DispatchEvent.OrphanReleased(now(), r.providerId(), r.name(), "no live attempt owns it"));
              release(null, null, r);
            }
          }));
    }
  }

  /**
   * Whether a live attempt of a job of this engine has this resource name. Looked up through the
   * job id and attempt number the name is made of ({@link #resourceName}), so that a reconcile pass
   * costs what the cloud lists, not what the engine holds (tens of thousands of queued jobs).
   */
  private boolean ownedByLiveAttemptHere(String name) {
    int dash = name.lastIndexOf("-a");
    if (!name.startsWith("ad-") || dash <= 3) {
      return false;
    }
    JobRun job = jobs.get(name.substring(3, dash));
    if (job == null) {
      return false;
    }
    int n;
    try {
      n = Integer.parseInt(name.substring(dash + 2));
    } catch (NumberFormatException notOurs) {
      return false;
    }
    Attempt a = job.attempt(n);
    return a != null && a.isLive() && a.resourceName().equals(name);
  }

  /**
   * Resource names of live attempts of unfinished jobs in the store: other dispatchers on the same
   * store, and jobs not yet recovered or leased here, own resources too.
   */
  private Set<String> liveResourceNamesInStore() {
    Set<String> names = new HashSet<>();
    for (JobRecord r : store.unfinished()) {
      for (Attempt a : r.attempts()) {
        if (a.isLive()) {
          names.add(a.resourceName());
        }
      }
    }
    return names;
  }

  /**
   * Picks up unfinished jobs a previous dispatcher left in a durable store. A store shared by
   * several dispatchers hands them out by lease instead, in {@link #heartbeat()}.
   */
  private void recover() {
    if (store.supportsLeases()) {
      heartbeat();
      return;
    }
    List<JobRecord> left = store.unfinished();
    if (!left.isEmpty()) {
      log.info("recovering {} unfinished jobs from the store", left.size());
      left.forEach(this::adopt);
      requestPass();
    }
  }

  /**
   * Renews this instance's leases, drops jobs another instance took over, acts on cancellations
   * asked through other instances, and leases jobs whose owner died.
   */
  private void heartbeat() {
    if (closed.get()) {
      return;
    }
    Instant now = now();
    try {
      // Only jobs already in the store before the renewal can be missing from its answer for a
      // reason: one being submitted meanwhile is (or will be) leased to us but was not there to renew.
      List<JobRun> known = jobs.values().stream().filter(j -> j.stored).toList();
      Set<String> held = store.renewLeases(instanceId, now, cfg.leaseDuration());
      for (JobRun j : known) {
        if (!j.state().isTerminal() && !held.contains(j.id)) {
          abandon(j, "its lease was taken over by another dispatcher");
        }
      }
      for (String id : store.cancelRequests(instanceId)) {
        JobRun j = jobs.get(id);
        if (j != null) {
          finishJob(j, JobState.CANCELLED, "cancelled by the host (through another dispatcher)");
        }
      }
      List<JobRecord> taken = store.acquireLeases(instanceId, now, cfg.leaseDuration(), 1000);
      if (!taken.isEmpty()) {
        log.info("leased {} unfinished jobs (new, or left by a dispatcher that stopped)", taken.size());
        taken.forEach(this::adopt);
        requestPass();
      }
    } catch (RuntimeException e) {
      log.warn("lease heartbeat failed; retrying", e);
    }
    scheduler.schedule(guarded(this::heartbeat), cfg.leaseDuration().dividedBy(3));
  }

  /** Takes a stored unfinished job into this engine and carries on from its stored state. */
  private void adopt(JobRecord r) {
    Instant now = now();
    JobRun job = new JobRun(this, r.id(), r.spec(), r.state(), r.submittedAt(), sequence.incrementAndGet());
    job.stored = true;
    if (jobs.putIfAbsent(r.id(), job) != null) {
      return;
    }
    job.version = r.version();
    job.loadAttempts(r.attempts());
    job.recomputeClosedCost();
    job.preemptions = r.preemptions();
    job.message = r.message();
    job.everRan = r.attempts().stream().anyMatch(a -> a.runningAt() != null);
    job.publish();
    unfinished.incrementAndGet();
    armTimers(job);
    for (Attempt a : job.liveAttempts()) {
      liveByOffer.merge(keys.of(a.offer()), 1, Integer::sum);
      ledger.attemptStarted(job.spec.tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), now);
      if (a.runningAt() != null) {
        ledger.attemptRunning(job.spec.tenant(), a.hourlyPrice(), a.runningAt());
      }
      if (!gateways.containsKey(a.offer().providerId())) {
        endAttempt(job, a, AttemptOutcome.LOST, "provider " + a.offer().providerId() + " is not wired any more", Money.ZERO, now);
      } else if (a.resource() != null) {
        job.pollDelay.put(a.number(), cfg.pollInitial());
        schedulePoll(job, a.number(), Duration.ZERO);
      } else {
        // Written ahead but the create's answer was never stored: ask again under the same name,
        // which adopts what exists and creates what does not.
        launch(job, a);
      }
    }
    if (job.liveAttempts().isEmpty()) {
      if (job.state() != JobState.QUEUED) {
        setState(job, JobState.QUEUED, "recovered after a restart; requeued");
      }
      enqueue(job);
    }
  }

  /** Forgets a job another instance now owns, without touching its resources. */
  private void abandon(JobRun job, String why) {
    if (!jobs.containsKey(job.id)) {
      return;
    }
    log.warn("job {}: {}; this dispatcher stops acting on it", job.id, why);
    for (TaskScheduler.Cancellable t : job.timers) {
      t.cancel();
    }
    dequeue(job);
    for (Attempt a : job.liveAttempts()) {
      liveByOffer.computeIfPresent(keys.of(a.offer()), (k, v) -> v <= 1 ? null : v - 1);
      if (a.runningAt() != null) {
        ledger.attemptStoppedRunning(job.spec.tenant(), a.hourlyPrice(), a.runningAt());
      }
      ledger.attemptEnded(job.spec.tenant(), a.offer().shape().acceleratorCount(), a.hourlyPrice(), Money.ZERO, now());
    }
    jobs.remove(job.id);
    unfinished.decrementAndGet();
    job.abandoned = true;
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  private void setState(JobRun job, JobState to, String reason) {
    JobState from = job.state();
    job.setState(to);
    job.message = reason;
    persist(job);
    if (from != to) {
      emit(new DispatchEvent.JobStateChanged(now(), job.id, from, to, reason));
    }
  }

  /**
   * Writes the job to the store before anything acts on or reports the change. When another
   * dispatcher has written it since (it took the job over), this one must not act: the task is
   * aborted and the job dropped.
   */
  private void persist(JobRun job) {
    if (job.abandoned) {
      throw new LeaseLostException(job);
    }
    job.publish();
    try {
      JobRecord stored = store.update(job.toRecord(now()));
      job.version = stored.version();
    } catch (dev.acceldispatch.spi.StaleJobException e) {
      abandon(job, "it was updated by another dispatcher");
      throw new LeaseLostException(job);
    }
  }

  /** Aborts an engine task that was about to act on a job this instance no longer owns. */
  private static final class LeaseLostException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LeaseLostException(JobRun job) {
      super("job " + job.id + " is owned by another dispatcher", null, false, false);
    }
  }

  private void emit(DispatchEvent e) {
    for (DispatchListener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException ex) {
        log.warn("a dispatch listener threw on {}; ignored", e.getClass().getSimpleName(), ex);
      }
    }
  }

  private void post(Runnable task) {
    scheduler.schedule(guarded(task), Duration.ZERO);
  }

  private static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (LeaseLostException e) {
        log.debug("{}", e.getMessage());
      } catch (RuntimeException e) {
        log.error("dispatch engine task failed", e);
      }
    };
  }

  private static void withMdc(JobRun job, Attempt a, Runnable r) {
    try (MDC.MDCCloseable j = MDC.putCloseable("jobId", job.id)) {
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

  private static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private static ProviderException asProviderException(Throwable err, Offer o) {
    Throwable e = unwrap(err);
    if (e instanceof ProviderException pe) {
      return pe;
    }
    return new ProviderException.Transient(o.providerId(), o.zone(), e.getClass().getSimpleName(), String.valueOf(e.getMessage()), e);
  }

  /**
   * A handle of a job this instance does not run: finished, or owned by another dispatcher on the
   * same store. It reads the store on every call; {@link #cancel()} asks the owner through the
   * store; {@link #result()} completes when the store shows the job ended.
   */
  private final class StoredJobHandle implements JobHandle {
    private final String id;
    private CompletableFuture<JobResult> result;

    StoredJobHandle(String id) {
      this.id = id;
    }

    private JobRecord record() {
      return store.find(id).orElseThrow(() -> new IllegalStateException("job " + id + " vanished from the store"));
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public JobSpec spec() {
      return record().spec();
    }

    @Override
    public JobState state() {
      return record().state();
    }

    @Override
    public List<Attempt> attempts() {
      return record().attempts();
    }

    @Override
    public Money cost() {
      return record().cost();
    }

    @Override
    public synchronized CompletableFuture<JobResult> result() {
      if (result == null) {
        result = new CompletableFuture<>();
        watch();
      }
      return result;
    }

    private void watch() {
      JobRecord r = record();
      if (r.state().isTerminal()) {
        result.complete(new JobResult(r.id(), r.state(), r.attempts(), r.cost(), r.message(), r.exitCode(), r.resultAttributes()));
      } else if (!closed.get()) {
        scheduler.schedule(guarded(this::watch), cfg.pollMax());
      }
    }

    @Override
    public boolean cancel() {
      JobRun live = jobs.get(id);
      if (live != null) {
        return live.cancel();
      }
      return store.supportsLeases() && store.requestCancel(id);
    }
  }
}
