package dev.acceldispatch.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.AcceleratorFamily;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.LeasingJobStore;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.StaleJobException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link JobStore} passes: insert, find and update with optimistic versioning,
 * {@link JobStore#unfinished()} order and filter, a round trip of every field of a {@link
 * JobRecord} (the whole {@link JobSpec}, secrets included, and every attempt), and, for a {@link
 * LeasingJobStore}, the lease methods, concurrent acquirers included.
 *
 * <p>A store module's test extends this and returns a fresh, empty store from {@link
 * #createStore()}. Times in the records the contract writes are whole microseconds: stores may keep
 * no more (PostgreSQL does not).
 */
public abstract class JobStoreContractTest {
  /** A fixed, microsecond-precise instant the records are built around. */
  protected static final Instant T0 = Instant.parse("2026-03-01T12:00:00.123456Z");

  private JobStore store;
  private ExecutorService pool;

  /** A fresh, empty store; called before every test. */
  protected abstract JobStore createStore();

  /** Called after every test with the store {@link #createStore()} returned; default: nothing. */
  protected void destroyStore(JobStore store) {}

  /** How many threads race in the concurrency tests; default 4. */
  protected int racers() {
    return 4;
  }

  /** The store under test. */
  protected final JobStore store() {
    return store;
  }

  @BeforeEach
  void openStore() {
    store = createStore();
    pool = Executors.newFixedThreadPool(racers());
  }

  @AfterEach
  void closeStore() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("racing threads ended").isTrue();
    destroyStore(store);
  }

  // ---- records ----------------------------------------------------------------------------------

  /** A minimal spec. */
  protected static JobSpec minimalSpec(String name) {
    return JobSpec.builder(name).script("exit 0").accelerators(Shapes.tpuV5e(8)).build();
  }

  /** A record in {@code state}, submitted at {@code submittedAt}, with no attempts. */
  protected static JobRecord record(String id, JobState state, Instant submittedAt) {
    return new JobRecord(id, minimalSpec("job " + id), state, 0, submittedAt, submittedAt, List.of(), 0, "m", null, Map.of());
  }

  /** A spec setting every builder field to a non-default value, with a container workload. */
  protected static JobSpec fullContainerSpec() {
    AcceleratorType custom = new AcceleratorType("acme-x1", AcceleratorFamily.GPU, "Acme", 48, 123.456789);
    return JobSpec.builder("train \"llama\" 'ü' \\ ; DROP TABLE jobs; -- 😀")
        .container("us-docker.pkg.dev/p/train:1.4", "python", "-c", "print('a b')\n$HOME `id` \"q\" \\", "", "ü 😀")
        .env("PLAIN", "v a l\"ue'\n\ttab \\ $(x) ü")
        .env("EMPTY", "")
        .secretEnv("API_TOKEN", Secret.of("s3cr3t-\"quoted\"-'single'-\\-ü-😀"))
        .secretEnv("OTHER_SECRET", Secret.of(""))
        // References are stored as they are, whatever the store does with literal values.
        .secretEnv("FROM_ENV", Secret.fromDispatcherEnv("HF_TOKEN"))
        .secretEnv("FROM_FILE", Secret.fromDispatcherFile(java.nio.file.Path.of("/run/secrets/token 'x'")))
        .secretEnv("FROM_GSM", Secret.googleSecretManager("projects/my-project/secrets/hf-token/versions/3"))
        .secretEnv("FROM_AKV", Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/hf-token"))
        .accelerators(
            AcceleratorRequest.anyOf(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8),
                new AcceleratorShape(custom, 4, null)).withMinTotalMemoryGib(128))
        .providers("gcp-tpu", "azure-gpu")
        .regions("us-west4", "eastus")
        .zones("us-west4-a", "eastus")
        .spot(SpotPolicy.PREFER)
        .onDemandAfterPreemptions(2)
        .maxHourlyPrice(Money.usd("12.34567891"))
        .maxTotalCost(Money.usd("1000.10"))
        .priority(-7)
        .tenant("Team.A-1_x")
        .label("team", "ml-research")
        .label("empty", "")
        .preemptionBudget(9)
        .timeout(Duration.ofHours(30).plusNanos(1))
        .startDeadline(Duration.ofMinutes(17).plusMillis(5))
        .referenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_A100_80GB, 4), Duration.ofSeconds(5400, 7))
        .hedge(3)
        .checkpointLocation("gs://bucket/ckpt/'x' \"y\"")
        .build();
  }

  /** A spec with a script workload, env and secret env, and defaults elsewhere. */
  protected static JobSpec scriptSpec() {
    return JobSpec.builder("script job")
        .script("#!/bin/sh\nset -eu\necho \"$GREETING\" > /tmp/out; exit 3 # 'quoted' \\\n")
        .env("GREETING", "hello\nworld")
        .secretEnv("PASSWORD", Secret.of("p@ss w0rd\n"))
        .accelerators(Shapes.cpu())
        .build();
  }

  /** Two attempts: an ended one on a spot offer with a resource and attributes, and a live one. */
  protected static List<Attempt> attempts() {
    Offer spotOffer = new Offer("gcp-tpu", "us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8",
        Money.usd("9.60"), Money.usd("3.840000001"), 16);
    Offer onDemand = Offer.of("azure-gpu", "eastus", "eastus", Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8),
        "Standard_ND96isr_H100_v5", Money.usd("98.32"), null);
    Attempt ended = new Attempt(1, spotOffer, true, "ad-j1-a1",
        new ProvisionedResource("gcp-tpu", "ad-j1-a1", "us-west4-a",
            Map.of("queuedResource", "projects/p/locations/us-west4-a/queuedResources/ad-j1-a1", "odd key ü", "v\"'\n")),
        T0.plusSeconds(1), T0.plusSeconds(60), T0.plusSeconds(3600), AttemptOutcome.PREEMPTED,
        Money.usd("0.123456789012"), "preempted by the cloud: \"SUSPENDED\"");
    Attempt live = new Attempt(2, onDemand, false, "ad-j1-a2", null, T0.plusSeconds(3601), null, null, null, Money.ZERO, "");
    return List.of(ended, live);
  }

  /** A record using every field: the full spec, two attempts, an exit code and attributes. */
  protected static JobRecord fullRecord(String id) {
    return new JobRecord(id, fullContainerSpec(), JobState.RUNNING, 0, T0, T0.plusSeconds(3601), attempts(), 1,
        "running on azure-gpu/eastus: \"ok\" 'ü'", 137, Map.of("exitCode", "137", "note", "a \"b\" 'c' ü"));
  }

  // ---- insert, find, update -------------------------------------------------------------------------

  @Test
  void insert_newJob_findReturnsItAtVersionZero() {
    store.insert(record("j1", JobState.QUEUED, T0).withVersion(5));

    assertThat(store.find("j1")).hasValueSatisfying(r -> {
      assertThat(r.version()).isZero();
      assertThat(r.state()).isEqualTo(JobState.QUEUED);
      assertThat(r).isEqualTo(record("j1", JobState.QUEUED, T0));
    });
  }

  @Test
  void insert_existingId_throwsIllegalStateAndKeepsTheFirst() {
    store.insert(record("j1", JobState.QUEUED, T0));

    assertThatThrownBy(() -> store.insert(record("j1", JobState.RUNNING, T0.plusSeconds(5))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("j1");
    assertThat(store.find("j1").orElseThrow().state()).isEqualTo(JobState.QUEUED);
  }

  @Test
  void find_unknownId_isEmpty() {
    assertThat(store.find("nope")).isEmpty();
  }

  @Test
  void update_currentVersion_storesTheRecordWithVersionPlusOne() {
    store.insert(record("j1", JobState.QUEUED, T0));
    JobRecord v0 = store.find("j1").orElseThrow();

    JobRecord changed = new JobRecord("j1", v0.spec(), JobState.PROVISIONING, 0, T0, T0.plusSeconds(2), attempts(), 2,
        "provisioning", null, Map.of("k", "v"));
    JobRecord v1 = store.update(changed);

    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1).isEqualTo(changed.withVersion(1));
    assertThat(store.find("j1")).contains(changed.withVersion(1));
    JobRecord v2 = store.update(v1.withVersion(1));
    assertThat(v2.version()).isEqualTo(2);
    assertThat(store.find("j1").orElseThrow().version()).isEqualTo(2);
  }

  @Test
  void update_staleVersion_throwsStaleJobExceptionAndChangesNothing() {
    store.insert(record("j1", JobState.QUEUED, T0));
    JobRecord v0 = store.find("j1").orElseThrow();
    store.update(new JobRecord("j1", v0.spec(), JobState.RUNNING, 0, T0, T0.plusSeconds(1), List.of(), 0, "first", null, Map.of()));

    JobRecord stale = new JobRecord("j1", v0.spec(), JobState.FAILED, 0, T0, T0.plusSeconds(2), List.of(), 0, "second", 1, Map.of());
    assertThatThrownBy(() -> store.update(stale))
        .isInstanceOf(StaleJobException.class)
        .hasMessageContaining("j1")
        .satisfies(e -> assertThat(((StaleJobException) e).jobId()).isEqualTo("j1"));
    JobRecord now = store.find("j1").orElseThrow();
    assertThat(now.version()).isEqualTo(1);
    assertThat(now.state()).isEqualTo(JobState.RUNNING);
    assertThat(now.message()).isEqualTo("first");
  }

  @Test
  void update_unknownJob_throwsIllegalState() {
    assertThatThrownBy(() -> store.update(record("ghost", JobState.RUNNING, T0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ghost");
    assertThat(store.find("ghost")).isEmpty();
  }

  @Test
  void update_threadsRacingOnOneJob_exactlyOneWinsEachVersionAndNoUpdateIsLost() throws Exception {
    store.insert(record("j1", JobState.RUNNING, T0));
    int perThread = 25;
    AtomicInteger staleSeen = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < racers(); t++) {
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < perThread; i++) {
          while (true) {
            JobRecord cur = store.find("j1").orElseThrow();
            JobRecord next = new JobRecord(cur.id(), cur.spec(), cur.state(), cur.version(), cur.submittedAt(),
                cur.updatedAt(), cur.attempts(), cur.preemptions() + 1, cur.message(), null, Map.of());
            try {
              store.update(next);
              break;
            } catch (StaleJobException e) {
              staleSeen.incrementAndGet();
            }
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(120, TimeUnit.SECONDS);
    }

    JobRecord end = store.find("j1").orElseThrow();
    assertThat(end.preemptions()).as("every increment kept").isEqualTo(racers() * perThread);
    assertThat(end.version()).isEqualTo(racers() * perThread);
  }

  @Test
  void update_twoWritersFromTheSameVersion_secondIsStale() {
    store.insert(record("j1", JobState.QUEUED, T0));
    JobRecord a = store.find("j1").orElseThrow();
    JobRecord b = store.find("j1").orElseThrow();

    store.update(new JobRecord("j1", a.spec(), JobState.RUNNING, a.version(), T0, T0, List.of(), 0, "a", null, Map.of()));

    assertThatThrownBy(() -> store.update(new JobRecord("j1", b.spec(), JobState.CANCELLED, b.version(), T0, T0, List.of(), 0, "b", null, Map.of())))
        .isInstanceOf(StaleJobException.class);
    assertThat(store.find("j1").orElseThrow().message()).isEqualTo("a");
  }

  // ---- unfinished -----------------------------------------------------------------------------------

  @Test
  void unfinished_mixOfStates_returnsOnlyNonTerminalOldestFirstTiesById() {
    store.insert(record("c", JobState.RUNNING, T0.plusSeconds(10)));
    store.insert(record("b", JobState.QUEUED, T0.plusSeconds(5)));
    store.insert(record("a", JobState.PROVISIONING, T0.plusSeconds(5)));
    store.insert(record("d", JobState.SUCCEEDED, T0));
    store.insert(record("e", JobState.FAILED, T0.plusSeconds(1)));
    store.insert(record("f", JobState.CANCELLED, T0.plusSeconds(2)));
    store.insert(record("g", JobState.QUEUED, T0.minusSeconds(100)));

    assertThat(store.unfinished()).extracting(JobRecord::id).containsExactly("g", "a", "b", "c");
  }

  @Test
  void unfinished_jobUpdatedToTerminal_isNoLongerListed() {
    store.insert(record("a", JobState.RUNNING, T0));
    store.insert(record("b", JobState.RUNNING, T0.plusSeconds(1)));
    JobRecord a = store.find("a").orElseThrow();

    store.update(new JobRecord("a", a.spec(), JobState.SUCCEEDED, a.version(), T0, T0.plusSeconds(9), List.of(), 0, "done", 0, Map.of()));

    assertThat(store.unfinished()).extracting(JobRecord::id).containsExactly("b");
    assertThat(store.find("a").orElseThrow().exitCode()).isZero();
  }

  @Test
  void unfinished_emptyStore_isEmpty() {
    assertThat(store.unfinished()).isEmpty();
  }

  // ---- round trips ----------------------------------------------------------------------------------

  @Test
  void roundTrip_everySpecFieldWithContainerWorkload_isEqual() {
    store.insert(fullRecord("full"));

    JobRecord back = store.find("full").orElseThrow();
    JobSpec s = back.spec();
    JobSpec expected = fullContainerSpec();
    assertThat(s).isEqualTo(expected);
    assertThat(s.name()).isEqualTo(expected.name());
    assertThat(s.workload().kind()).isEqualTo(Workload.Kind.CONTAINER);
    assertThat(s.workload().image()).isEqualTo("us-docker.pkg.dev/p/train:1.4");
    assertThat(s.workload().command()).isEqualTo(expected.workload().command());
    assertThat(s.workload().env()).isEqualTo(expected.workload().env());
    assertThat(s.workload().secretEnv().get("API_TOKEN").reveal()).isEqualTo("s3cr3t-\"quoted\"-'single'-\\-ü-😀");
    assertThat(s.workload().secretEnv().get("OTHER_SECRET").reveal()).isEmpty();
    assertThat(s.workload().secretEnv().get("FROM_GSM").kind()).isEqualTo(Secret.Kind.GOOGLE_SECRET_MANAGER);
    assertThat(s.workload().secretEnv().get("FROM_FILE").reference()).isEqualTo("/run/secrets/token 'x'");
    assertThat(s.accelerators()).isEqualTo(expected.accelerators());
    assertThat(s.accelerators().shapes().get(2).type().peakBf16Tflops()).isEqualTo(123.456789);
    assertThat(s.providers()).containsExactly("gcp-tpu", "azure-gpu");
    assertThat(s.regions()).containsExactly("us-west4", "eastus");
    assertThat(s.zones()).containsExactly("us-west4-a", "eastus");
    assertThat(s.spot()).isEqualTo(SpotPolicy.PREFER);
    assertThat(s.onDemandAfterPreemptions()).isEqualTo(2);
    assertThat(s.maxHourlyPrice()).contains(Money.usd("12.34567891"));
    assertThat(s.maxHourlyPrice().orElseThrow().amount()).isEqualByComparingTo("12.34567891");
    assertThat(s.maxTotalCost()).contains(Money.usd("1000.1"));
    assertThat(s.priority()).isEqualTo(-7);
    assertThat(s.tenant()).isEqualTo("Team.A-1_x");
    assertThat(s.labels()).containsExactlyInAnyOrderEntriesOf(Map.of("team", "ml-research", "empty", ""));
    assertThat(s.preemptionBudget()).isEqualTo(9);
    assertThat(s.timeout()).contains(Duration.ofHours(30).plusNanos(1));
    assertThat(s.startDeadline()).contains(Duration.ofMinutes(17).plusMillis(5));
    assertThat(s.referenceRunTime()).isEqualTo(expected.referenceRunTime());
    assertThat(s.hedge()).isEqualTo(3);
    assertThat(s.checkpointLocation()).contains("gs://bucket/ckpt/'x' \"y\"");
  }

  @Test
  void roundTrip_scriptWorkloadWithEnvAndSecrets_isEqual() {
    JobRecord r = new JobRecord("s1", scriptSpec(), JobState.QUEUED, 0, T0, T0, List.of(), 0, "", null, Map.of());
    store.insert(r);

    JobRecord back = store.find("s1").orElseThrow();
    assertThat(back).isEqualTo(r);
    assertThat(back.spec().workload().kind()).isEqualTo(Workload.Kind.SCRIPT);
    assertThat(back.spec().workload().script()).isEqualTo(scriptSpec().workload().script());
    assertThat(back.spec().workload().image()).isNull();
    assertThat(back.spec().workload().env()).containsEntry("GREETING", "hello\nworld");
    assertThat(back.spec().workload().secretEnv().get("PASSWORD").reveal()).isEqualTo("p@ss w0rd\n");
    assertThat(back.spec().maxHourlyPrice()).isEmpty();
    assertThat(back.spec().timeout()).isEmpty();
    assertThat(back.spec().referenceRunTime()).isEmpty();
    assertThat(back.spec().checkpointLocation()).isEmpty();
    assertThat(back.spec().onDemandAfterPreemptions()).isEqualTo(-1);
    assertThat(back.exitCode()).isNull();
  }

  @Test
  void roundTrip_engineEnvOnTheWorkload_isKept() {
    JobSpec spec = minimalSpec("engine env");
    JobSpec withEngineEnv = spec.toBuilder()
        .workload(spec.workload().withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", "j9", "ACCEL_DISPATCH_ATTEMPT", "2")))
        .build();
    JobRecord r = new JobRecord("e1", withEngineEnv, JobState.QUEUED, 0, T0, T0, List.of(), 0, "", null, Map.of());
    store.insert(r);

    assertThat(store.find("e1")).contains(r);
  }

  @Test
  void roundTrip_attemptsWithOffersResourcesAndAttributes_isEqual() {
    JobRecord r = fullRecord("att");
    store.insert(r);

    JobRecord back = store.find("att").orElseThrow();
    assertThat(back).isEqualTo(r);
    assertThat(back.attempts()).containsExactlyElementsOf(attempts());
    Attempt first = back.attempts().get(0);
    assertThat(first.offer().spotHourly()).isEqualTo(Money.usd("3.840000001"));
    assertThat(first.offer().capacity()).isEqualTo(16);
    assertThat(first.resource().attributes()).containsEntry("odd key ü", "v\"'\n");
    assertThat(first.outcome()).isEqualTo(AttemptOutcome.PREEMPTED);
    assertThat(first.runningAt()).isEqualTo(T0.plusSeconds(60));
    Attempt second = back.attempts().get(1);
    assertThat(second.resource()).isNull();
    assertThat(second.offer().spotHourly()).isNull();
    assertThat(second.offer().capacity()).isEqualTo(Offer.UNLIMITED);
    assertThat(second.isLive()).isTrue();
    assertThat(back.cost()).isEqualTo(Money.usd("0.123456789012"));
    assertThat(back.exitCode()).isEqualTo(137);
    assertThat(back.resultAttributes()).containsEntry("note", "a \"b\" 'c' ü");
    assertThat(back.message()).isEqualTo("running on azure-gpu/eastus: \"ok\" 'ü'");
    assertThat(back.submittedAt()).isEqualTo(T0);
    assertThat(back.updatedAt()).isEqualTo(T0.plusSeconds(3601));
    assertThat(back.preemptions()).isEqualTo(1);
  }

  @Test
  void roundTrip_moneyPrecision_isExact() {
    Money tiny = new Money(new java.math.BigDecimal("0.000000000000000001"));
    Money big = new Money(new java.math.BigDecimal("123456789012345.123456789012"));
    Offer o = Offer.of("p", "r", "z", Shapes.cpu(), "m", big, tiny);
    Attempt a = new Attempt(1, o, true, "ad-m-a1", null, T0, null, null, null, tiny, "");
    JobRecord r = new JobRecord("money", JobSpec.builder("m").script("true").accelerators(Shapes.cpu())
        .maxTotalCost(big).maxHourlyPrice(tiny).build(), JobState.PROVISIONING, 0, T0, T0, List.of(a), 0, "", null, Map.of());
    store.insert(r);

    JobRecord back = store.find("money").orElseThrow();
    assertThat(back.attempts().get(0).cost().amount()).isEqualByComparingTo("0.000000000000000001");
    assertThat(back.attempts().get(0).offer().onDemandHourly().amount()).isEqualByComparingTo("123456789012345.123456789012");
    assertThat(back.spec().maxTotalCost().orElseThrow().amount()).isEqualByComparingTo("123456789012345.123456789012");
    assertThat(back.spec().maxHourlyPrice().orElseThrow().amount()).isEqualByComparingTo("0.000000000000000001");
  }

  @Test
  void roundTrip_afterUpdate_everyFieldIsTheUpdatedOne() {
    store.insert(record("u1", JobState.QUEUED, T0));
    JobRecord full = fullRecord("u1");

    store.update(full);

    assertThat(store.find("u1")).contains(full.withVersion(1));
  }

  // ---- leases -------------------------------------------------------------------------------------

  @Test
  void insertLeased_leasingStore_storesTheJobAsInsertWould() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("l", JobState.QUEUED, T0), "a", T0.plusSeconds(1));
    assertThat(store.find("l")).contains(record("l", JobState.QUEUED, T0));
  }

  /** The store under test as a {@link LeasingJobStore}. */
  private LeasingJobStore leasing() {
    return (LeasingJobStore) store;
  }

  @Test
  void acquireLeases_neverLeasedJobs_takesUnfinishedOldestFirstUpToMax() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    store.insert(record("c", JobState.QUEUED, T0.plusSeconds(3)));
    store.insert(record("a", JobState.QUEUED, T0.plusSeconds(1)));
    store.insert(record("b", JobState.RUNNING, T0.plusSeconds(2)));
    store.insert(record("done", JobState.SUCCEEDED, T0));

    List<JobRecord> first = leasing().acquireLeases("one", T0.plusSeconds(10), Duration.ofSeconds(30), 2);
    List<JobRecord> second = leasing().acquireLeases("two", T0.plusSeconds(10), Duration.ofSeconds(30), 10);

    assertThat(first).extracting(JobRecord::id).containsExactly("a", "b");
    assertThat(first.get(1)).isEqualTo(record("b", JobState.RUNNING, T0.plusSeconds(2)));
    assertThat(second).extracting(JobRecord::id).containsExactly("c");
    assertThat(leasing().acquireLeases("three", T0.plusSeconds(10), Duration.ofSeconds(30), 10)).isEmpty();
  }

  @Test
  void insertLeased_liveLease_isSkippedByOthersUntilItExpires() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("j1", JobState.QUEUED, T0), "one", T0.plusSeconds(30));
    assertThat(store.find("j1").orElseThrow().version()).isZero();
    assertThatThrownBy(() -> leasing().insertLeased(record("j1", JobState.QUEUED, T0), "two", T0.plusSeconds(30)))
        .isInstanceOf(IllegalStateException.class);

    assertThat(leasing().acquireLeases("two", T0.plusSeconds(29), Duration.ofSeconds(30), 10)).isEmpty();
    assertThat(leasing().acquireLeases("one", T0.plusSeconds(29), Duration.ofSeconds(30), 10))
        .as("its own live lease is not acquired again").isEmpty();
    List<JobRecord> taken = leasing().acquireLeases("two", T0.plusSeconds(31), Duration.ofSeconds(30), 10);

    assertThat(taken).extracting(JobRecord::id).containsExactly("j1");
    assertThat(leasing().renewLeases("one", T0.plusSeconds(32), Duration.ofSeconds(30))).isEmpty();
    assertThat(leasing().renewLeases("two", T0.plusSeconds(32), Duration.ofSeconds(30))).containsExactly("j1");
  }

  @Test
  void renewLeases_heldLeases_extendsThemAndReturnsOnlyUnfinishedOnes() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    store.insert(record("a", JobState.QUEUED, T0));
    store.insert(record("b", JobState.QUEUED, T0.plusSeconds(1)));
    assertThat(leasing().acquireLeases("one", T0, Duration.ofSeconds(10), 10)).hasSize(2);
    JobRecord b = store.find("b").orElseThrow();
    store.update(new JobRecord("b", b.spec(), JobState.SUCCEEDED, b.version(), b.submittedAt(), T0.plusSeconds(2), List.of(), 0, "done", 0, Map.of()));

    assertThat(leasing().renewLeases("one", T0.plusSeconds(8), Duration.ofSeconds(10))).containsExactly("a");
    assertThat(leasing().acquireLeases("two", T0.plusSeconds(15), Duration.ofSeconds(10), 10))
        .as("renewed until +18 s").isEmpty();
    assertThat(leasing().acquireLeases("two", T0.plusSeconds(19), Duration.ofSeconds(10), 10))
        .extracting(JobRecord::id).containsExactly("a");
    assertThat(leasing().renewLeases("nobody", T0.plusSeconds(20), Duration.ofSeconds(10))).isEmpty();
  }

  @Test
  void update_byLeaseHolder_keepsTheLease() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("a", JobState.QUEUED, T0), "one", T0.plusSeconds(30));
    JobRecord a = store.find("a").orElseThrow();

    store.update(new JobRecord("a", a.spec(), JobState.PROVISIONING, a.version(), T0, T0.plusSeconds(1), attempts(), 0, "p", null, Map.of()));

    assertThat(leasing().acquireLeases("two", T0.plusSeconds(5), Duration.ofSeconds(30), 10)).isEmpty();
    assertThat(leasing().renewLeases("one", T0.plusSeconds(5), Duration.ofSeconds(30))).containsExactly("a");
  }

  @Test
  void releaseLease_byHolder_letsAnotherAcquireAtOnce_byOtherOwnerChangesNothing() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("a", JobState.RUNNING, T0), "one", T0.plusSeconds(60));

    leasing().releaseLease("two", "a");
    assertThat(leasing().acquireLeases("two", T0.plusSeconds(1), Duration.ofSeconds(60), 10)).isEmpty();
    leasing().releaseLease("one", "a");
    leasing().releaseLease("one", "unknown-job");

    assertThat(leasing().acquireLeases("two", T0.plusSeconds(1), Duration.ofSeconds(60), 10))
        .extracting(JobRecord::id).containsExactly("a");
    assertThat(leasing().renewLeases("one", T0.plusSeconds(2), Duration.ofSeconds(60))).isEmpty();
  }

  @Test
  void requestCancel_unfinishedJob_isReportedToItsLeaseHolderOnly() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("a", JobState.RUNNING, T0), "one", T0.plusSeconds(60));
    leasing().insertLeased(record("b", JobState.RUNNING, T0), "one", T0.plusSeconds(60));
    leasing().insertLeased(record("c", JobState.RUNNING, T0), "two", T0.plusSeconds(60));
    store.insert(record("done", JobState.FAILED, T0));
    long versionBefore = store.find("a").orElseThrow().version();

    assertThat(leasing().requestCancel("a")).isTrue();
    assertThat(leasing().requestCancel("c")).isTrue();
    assertThat(leasing().requestCancel("done")).isFalse();
    assertThat(leasing().requestCancel("unknown")).isFalse();

    assertThat(leasing().cancelRequests("one")).containsExactly("a");
    assertThat(leasing().cancelRequests("two")).containsExactly("c");
    assertThat(leasing().cancelRequests("three")).isEmpty();
    assertThat(store.find("a").orElseThrow().version())
        .as("a cancel request does not make the holder's next update stale").isEqualTo(versionBefore);
    JobRecord a = store.find("a").orElseThrow();
    store.update(new JobRecord("a", a.spec(), JobState.CANCELLED, a.version(), T0, T0.plusSeconds(3), List.of(), 0, "cancelled", null, Map.of()));
    assertThat(leasing().cancelRequests("one")).isEmpty();
    assertThat(leasing().requestCancel("a")).isFalse();
  }

  @Test
  void acquireLeases_severalOwnersAtOnce_neverHandOneJobToTwoOwners() throws Exception {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    int jobs = 120;
    for (int i = 0; i < jobs; i++) {
      store.insert(record(String.format("j%03d", i), JobState.QUEUED, T0.plusMillis(i)));
    }
    Map<String, String> holder = new ConcurrentHashMap<>();
    List<String> doubles = java.util.Collections.synchronizedList(new ArrayList<>());
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < racers(); t++) {
      String owner = "owner-" + t;
      futures.add(pool.submit(() -> {
        start.await();
        for (int round = 0; round < 200 && holder.size() < jobs; round++) {
          for (JobRecord r : leasing().acquireLeases(owner, T0.plusSeconds(1), Duration.ofMinutes(5), 7)) {
            String prev = holder.putIfAbsent(r.id(), owner);
            if (prev != null) {
              doubles.add(r.id() + " to " + prev + " and " + owner);
            }
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(120, TimeUnit.SECONDS);
    }

    assertThat(doubles).as("jobs handed to two owners").isEmpty();
    assertThat(holder).hasSize(jobs);
    Set<String> renewed = new HashSet<>();
    for (int t = 0; t < racers(); t++) {
      Set<String> mine = leasing().renewLeases("owner-" + t, T0.plusSeconds(2), Duration.ofMinutes(5));
      for (String id : mine) {
        assertThat(renewed.add(id)).as("%s held by one owner only", id).isTrue();
      }
    }
    assertThat(renewed).hasSize(jobs);
  }

  @Test
  void acquireLeases_expiredLeasesOfADeadOwner_areTakenOverWhileLiveOnesStay() {
    if (!(store instanceof LeasingJobStore)) {
      assertThat(store).isNotInstanceOf(LeasingJobStore.class);
      return;
    }
    leasing().insertLeased(record("dead1", JobState.RUNNING, T0), "dead", T0.plusSeconds(10));
    leasing().insertLeased(record("dead2", JobState.PROVISIONING, T0.plusSeconds(1)), "dead", T0.plusSeconds(10));
    leasing().insertLeased(record("live", JobState.RUNNING, T0.plusSeconds(2)), "alive", T0.plusSeconds(100));

    List<JobRecord> taken = leasing().acquireLeases("heir", T0.plusSeconds(11), Duration.ofSeconds(30), 10);

    assertThat(taken).extracting(JobRecord::id).containsExactly("dead1", "dead2");
    assertThat(taken.get(1).state()).isEqualTo(JobState.PROVISIONING);
    assertThat(leasing().renewLeases("alive", T0.plusSeconds(12), Duration.ofSeconds(30))).containsExactly("live");
  }

  // ---- queries ------------------------------------------------------------------------------------

  /** A record of {@code tenant} with {@code labels}, in {@code state}, submitted at {@code at}. */
  protected static JobRecord labelled(String id, JobState state, Instant at, String tenant, Map<String, String> labels) {
    JobSpec.Builder b = minimalSpec("job " + id).toBuilder().tenant(tenant);
    labels.forEach(b::label);
    return new JobRecord(id, b.build(), state, 0, at, at, List.of(), 0, "m", null, Map.of());
  }

  @Test
  void query_noFilter_returnsEveryJobNewestFirstTiesByIdDescending() {
    store.insert(record("a", JobState.SUCCEEDED, T0));
    store.insert(record("c", JobState.QUEUED, T0.plusSeconds(5)));
    store.insert(record("b", JobState.RUNNING, T0.plusSeconds(5)));
    store.insert(record("d", JobState.CANCELLED, T0.plusSeconds(9)));

    assertThat(store.query(JobQuery.all())).extracting(JobRecord::id).containsExactly("d", "c", "b", "a");
  }

  @Test
  void query_stateTenantLabelAndTimeFilters_returnOnlyMatchingJobs() {
    store.insert(labelled("a", JobState.RUNNING, T0, "research", Map.of("team", "nlp")));
    store.insert(labelled("b", JobState.SUCCEEDED, T0.plusSeconds(1), "research", Map.of("team", "nlp")));
    store.insert(labelled("c", JobState.RUNNING, T0.plusSeconds(2), "prod", Map.of("team", "nlp")));
    store.insert(labelled("d", JobState.RUNNING, T0.plusSeconds(3), "research", Map.of("team", "vision")));
    store.insert(labelled("e", JobState.QUEUED, T0.plusSeconds(4), "research", Map.of()));

    assertThat(store.query(JobQuery.builder().states(JobState.RUNNING, JobState.QUEUED).build()))
        .extracting(JobRecord::id).containsExactly("e", "d", "c", "a");
    assertThat(store.query(JobQuery.builder().tenant("research").build()))
        .extracting(JobRecord::id).containsExactly("e", "d", "b", "a");
    assertThat(store.query(JobQuery.builder().label("team", "nlp").build()))
        .extracting(JobRecord::id).containsExactly("c", "b", "a");
    assertThat(store.query(JobQuery.builder().submittedFrom(T0.plusSeconds(1)).submittedBefore(T0.plusSeconds(3)).build()))
        .extracting(JobRecord::id).containsExactly("c", "b");
    assertThat(store.query(JobQuery.builder().states(JobState.RUNNING).tenant("research").label("team", "nlp").build()))
        .extracting(JobRecord::id).containsExactly("a");
  }

  @Test
  void query_pagedWithLimit_pagesNeverRepeatOrSkipAJobEvenWithTiedTimes() {
    for (int i = 0; i < 7; i++) {
      store.insert(record("j" + i, JobState.QUEUED, T0.plusSeconds(i / 2)));
    }
    List<String> seen = new ArrayList<>();
    JobQuery q = JobQuery.builder().limit(3).build();
    int pages = 0;
    while (q != null) {
      dev.acceldispatch.JobPage page = dev.acceldispatch.JobPage.of(q, store.query(q));
      page.jobs().forEach(r -> seen.add(r.id()));
      q = page.next();
      pages++;
    }

    assertThat(seen).containsExactly("j6", "j5", "j4", "j3", "j2", "j1", "j0");
    assertThat(pages).isEqualTo(3);
  }

  @Test
  void query_labelFilterMatchingFewOfManyJobs_fillsThePageFromOlderRows() {
    for (int i = 0; i < 450; i++) {
      store.insert(labelled("n" + (1000 + i), JobState.SUCCEEDED, T0.plusSeconds(i), "default",
          i % 150 == 0 ? Map.of("pick", "yes") : Map.of()));
    }

    List<JobRecord> page = store.query(JobQuery.builder().label("pick", "yes").limit(2).build());

    assertThat(page).extracting(JobRecord::id).containsExactly("n1300", "n1150");
    assertThat(store.query(JobQuery.builder().label("pick", "yes").limit(2)
        .after(new JobQuery.Position(page.get(1).submittedAt(), page.get(1).id())).build()))
        .extracting(JobRecord::id).containsExactly("n1000");
  }

  @Test
  void query_jobUpdatedToAnotherState_isFoundByItsNewState() {
    store.insert(record("a", JobState.RUNNING, T0));
    JobRecord a = store.find("a").orElseThrow();
    store.update(new JobRecord("a", a.spec(), JobState.FAILED, a.version(), T0, T0.plusSeconds(9), List.of(), 0, "exit 3", 3, Map.of()));

    assertThat(store.query(JobQuery.builder().states(JobState.RUNNING).build())).isEmpty();
    assertThat(store.query(JobQuery.builder().states(JobState.FAILED).build()))
        .singleElement().satisfies(r -> assertThat(r.exitCode()).isEqualTo(3));
  }
}
