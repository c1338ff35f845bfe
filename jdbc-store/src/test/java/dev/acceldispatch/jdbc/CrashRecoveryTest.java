package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dispatcher in a separate JVM ({@link CrashChild}), on an H2 file, is killed with SIGKILL at
 * random points again and again while it submits and runs jobs on the TPU emulator (which runs
 * here, so the cloud outlives every dispatcher), and restarted on the same database each time. At
 * the end no submitted job is lost, every job ended, no attempt's resource was ever allocated
 * twice, and once the reconciler ran no resource is left that no job owns.
 */
class CrashRecoveryTest {
  private static final int MIN_KILLS = Integer.getInteger("crash.kills", 30);
  private static final int MIN_JOBS = Integer.getInteger("crash.jobs", 300);
  private static final int JOBS_PER_RUN = 20;

  @TempDir Path dir;
  /** The children's stderr, kept in target/ for a look after a failure. */
  private Path log;
  private TpuEmulator emulator;
  private Process child;

  @BeforeEach
  void startCloud() throws IOException {
    Files.createDirectories(Path.of("target"));
    log = Files.createTempFile(Path.of("target"), "crash-children-", ".log");
    CloudModel model = CloudModel.create()
        .setProvisioningTime(Duration.ofMillis(150))
        .setDefaultWorkload(Duration.ofMillis(400), 0);
    emulator = TpuEmulator.create(model).start();
  }

  @AfterEach
  void stopCloud() throws InterruptedException {
    if (child != null && child.isAlive()) {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
    emulator.close();
  }

  @Test
  void dispatcher_killedWithSigkillManyTimes_losesNoJobRunsNoAttemptTwiceAndLeaksNothing() throws Exception {
    Path db = dir.resolve("jobs");
    Random random = new Random(Long.getLong("crash.seed", System.nanoTime()));
    Set<String> submitted = new LinkedHashSet<>();
    int kills = 0;
    int killsBeforeReady = 0;
    long started = System.nanoTime();
    while (kills < MIN_KILLS || submitted.size() < MIN_JOBS) {
      Run run = launch("run", db, Integer.toString(JOBS_PER_RUN), Integer.toString(submitted.size() + kills * 1000));
      if (random.nextInt(6) == 0) {
        // Kill somewhere in start-up: store migration checks, client creation, recovery.
        Thread.sleep(random.nextInt(1500));
        if (!run.ready.await(0, TimeUnit.MILLISECONDS)) {
          killsBeforeReady++;
        }
      } else {
        assertThat(run.ready.await(60, TimeUnit.SECONDS)).as("child ready; log %s", run.log).isTrue();
        Thread.sleep(random.nextInt(900));
      }
      assertThat(child.isAlive()).as("child still running before the kill; log %s", run.log).isTrue();
      child.destroyForcibly(); // SIGKILL
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      run.drain();
      submitted.addAll(run.submitted);
      kills++;
    }
    Duration crashPhase = Duration.ofNanos(System.nanoTime() - started);

    Run last = launch("finish", db);
    assertThat(child.waitFor(150, TimeUnit.SECONDS)).as("final dispatcher finished; log %s", last.log).isTrue();
    last.drain();
    assertThat(child.exitValue()).as("final dispatcher drained every job and resource; log %s, output %s", last.log, last.lines).isZero();

    List<JobRecord> all = new ArrayList<>();
    List<JobRecord> stored = new ArrayList<>();
    try (JdbcJobStore store = JdbcJobStore.h2File(db)) {
      for (String id : submitted) {
        Optional<JobRecord> r = store.find(id);
        assertThat(r).as("submitted job %s is in the store", id).isPresent();
        all.add(r.orElseThrow());
      }
      // Jobs whose submit returned just before a kill, before the child printed their id.
      for (String id : allIds(db)) {
        stored.add(store.find(id).orElseThrow());
      }
      assertThat(store.unfinished()).as("unfinished jobs at the end").isEmpty();
    }
    CloudModel model = emulator.model();
    Map<String, Long> createsPerName = model.calls(TpuEmulator.OP_CREATE).stream()
        .map(c -> c.target().substring(c.target().lastIndexOf('/') + 1))
        .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    Set<String> attemptNames = new HashSet<>();
    int attempts = 0;
    Map<JobState, Integer> byState = new HashMap<>();
    for (JobRecord r : stored) {
      byState.merge(r.state(), 1, Integer::sum);
      for (Attempt a : r.attempts()) {
        attempts++;
        assertThat(attemptNames.add(a.resourceName())).as("resource name %s used by one attempt only", a.resourceName()).isTrue();
        assertThat(a.isLive()).as("attempt %s of finished job %s ended", a.number(), r.id()).isFalse();
      }
      assertThat(r.state()).isIn(JobState.SUCCEEDED, JobState.FAILED);
    }
    long allocations = model.allocations();
    long orphansReleased = distinct(log, "reconciler: releasing ");
    // "recovering N unfinished jobs" (engine without leases) or "leased N unfinished jobs" (with).
    long recoveries = count(log, "recovering ") + count(log, "leased ");
    List<SimulatedResource> left = model.resources();
    System.out.printf(
        "crash test: %d SIGKILLs (%d during start-up) over %s, %d jobs submitted (%d in the store), %d lost, %s; %d attempts;"
            + " %d create calls for %d names, %d allocations (at most one per name: %s); %d resources left after the reconciler;"
            + " the reconciler released %d distinct orphans; %d starts recovered unfinished jobs%n",
        kills, killsBeforeReady, crashPhase, submitted.size(), stored.size(), submitted.size() - all.size(), byState, attempts,
        createsPerName.values().stream().mapToLong(Long::longValue).sum(), createsPerName.size(), allocations,
        allocations == createsPerName.size(), left.size(), orphansReleased, recoveries);

    assertThat(kills).isGreaterThanOrEqualTo(MIN_KILLS);
    assertThat(all).hasSize(submitted.size()).hasSizeGreaterThanOrEqualTo(MIN_JOBS);
    assertThat(allocations).as("no resource name was allocated twice (no attempt had two resources)")
        .isEqualTo(createsPerName.size());
    assertThat(attemptNames).as("every cloud create was for a stored attempt").containsAll(createsPerName.keySet());
    assertThat(byState.getOrDefault(JobState.FAILED, 0)).as("the exit-3 jobs failed").isPositive();
    assertThat(left).as("resources no job owns, after the reconciler").isEmpty();
  }

  /** One child JVM, with its stdout read by a thread. */
  private final class Run {
    final CountDownLatch ready = new CountDownLatch(1);
    final List<String> submitted = new ArrayList<>();
    final List<String> lines = new ArrayList<>();
    final Path log;
    final Thread reader;

    Run(Process p, Path log) {
      this.log = log;
      this.reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            synchronized (this) {
              lines.add(line);
              if (line.startsWith("SUBMITTED ")) {
                submitted.add(line.substring("SUBMITTED ".length()));
              }
            }
            if (line.equals("READY")) {
              ready.countDown();
            }
          }
        } catch (IOException e) {
          // the process died: its pipe closed
        }
      }, "crash-child-reader");
      reader.setDaemon(true);
      reader.start();
    }

    void drain() throws InterruptedException {
      reader.join(10_000);
      assertThat(reader.isAlive()).isFalse();
    }
  }

  private Run launch(String mode, Path db, String... more) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-Xmx256m",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        // With the engine's leases (a JdbcJobStore supports them), a restarted dispatcher is a new
        // instance and takes the killed one's jobs once their leases expire: keep them short.
        "-Dcrash.leaseMillis=1500",
        "-cp", System.getProperty("java.class.path"),
        CrashChild.class.getName(), mode, Integer.toString(emulator.port()), db.toString()));
    cmd.addAll(List.of(more));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .directory(new File(dir.toString()));
    child = pb.start();
    return new Run(child, log);
  }

  private static long count(Path log, String needle) throws IOException {
    return Files.readAllLines(log).stream().filter(l -> l.contains(needle)).count();
  }

  /** How many distinct words follow {@code needle} in the log. */
  private static long distinct(Path log, String needle) throws IOException {
    return Files.readAllLines(log).stream().filter(l -> l.contains(needle))
        .map(l -> l.substring(l.indexOf(needle) + needle.length()).split(" ")[0]).distinct().count();
  }

  private static List<String> allIds(Path db) throws java.sql.SQLException {
    org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
    ds.setURL(JdbcJobStore.h2FileUrl(db.toAbsolutePath().toString()));
    ds.setUser("sa");
    List<String> ids = new ArrayList<>();
    try (java.sql.Connection c = ds.getConnection();
        java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT id FROM accel_jobs ORDER BY submitted_at")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }
}
