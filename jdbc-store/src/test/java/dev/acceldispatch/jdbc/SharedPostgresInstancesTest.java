package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobState;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three dispatcher JVMs ({@link CrashChild} in {@code instance} mode) share one PostgreSQL store
 * and process 500 jobs on the TPU emulator; one is killed with SIGKILL mid-run, and the other two
 * take its jobs over when its leases expire. Every job ends exactly once: one terminal event in all
 * the instances' output, one attempt, one cloud allocation per resource name, nothing left.
 */
class SharedPostgresInstancesTest {
  private static final int JOBS_EACH = 200;
  private static final int JOBS_OF_THE_VICTIM = 100;

  private TpuEmulator emulator;
  private HikariDataSource pool;
  private String schema;
  private Path log;
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    emulator = TpuEmulator.create(CloudModel.create()
        .setProvisioningTime(Duration.ofMillis(150))
        .setDefaultWorkload(Duration.ofMillis(600), 0)).start();
    pool = Databases.postgres(4);
    schema = Databases.freshSchema();
    JdbcJobStore.builder(pool).schema(schema).build();
    Files.createDirectories(Path.of("target"));
    log = Files.createTempFile(Path.of("target"), "instances-", ".log");
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : children) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    Databases.dropSchema(pool, schema);
    pool.close();
    emulator.close();
  }

  @Test
  void threeInstances_oneKilledMidRun_everyJobEndsExactlyOnce() throws Exception {
    Map<String, List<String>> ended = new ConcurrentHashMap<>();
    List<String> submitted = new CopyOnWriteArrayList<>();
    List<Process> survivors = new ArrayList<>();
    survivors.add(launch(0, JOBS_EACH, ended, submitted));
    survivors.add(launch(1, JOBS_EACH, ended, submitted));
    Process victim = launch(2, JOBS_OF_THE_VICTIM, ended, submitted);

    // Kill the victim once it has submitted its share and ended some of its jobs, with the rest
    // queued, provisioning or running.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while ((victimLines.stream().noneMatch(l -> l.equals("SUBMITTED-ALL"))
            || victimLines.stream().filter(l -> l.startsWith("ENDED ")).count() < 10)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(victim.isAlive()).as("victim alive before the kill; log %s", log).isTrue();
    Instant killedAt = Instant.now();
    victim.destroyForcibly(); // SIGKILL
    assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
    long victimEnded = victimLines.stream().filter(l -> l.startsWith("ENDED ")).count();

    for (Process p : survivors) {
      assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("survivor drained everything; log %s", log).isTrue();
      assertThat(p.exitValue()).as("survivor exit; log %s; unfinished: %s", log, unfinishedRows()).isZero();
    }

    List<JobRecord> jobs = new ArrayList<>();
    JdbcJobStore store = JdbcJobStore.builder(pool).schema(schema).migrate(false).build();
    for (String id : allIds()) {
      jobs.add(store.find(id).orElseThrow());
    }
    CloudModel model = emulator.model();
    Map<String, Long> createsPerName = model.calls(TpuEmulator.OP_CREATE).stream()
        .map(c -> c.target().substring(c.target().lastIndexOf('/') + 1))
        .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    Map<JobState, Integer> byState = new HashMap<>();
    List<String> notOnce = new ArrayList<>();
    int attempts = 0;
    for (JobRecord r : jobs) {
      byState.merge(r.state(), 1, Integer::sum);
      attempts += r.attempts().size();
      int n = ended.getOrDefault(r.id(), List.of()).size();
      // The victim may have stored a job's end and died before printing it.
      boolean endedSilentlyByVictim = n == 0 && !r.updatedAt().isAfter(killedAt);
      if (n != 1 && !endedSilentlyByVictim) {
        notOnce.add(r.id() + " ended " + n + " times");
      }
    }
    System.out.printf(
        "instances test: %d jobs submitted through 3 instances (%d in the store), victim killed after %d of its jobs ended;"
            + " %s; %d attempts; %d create calls for %d names, %d allocations; %d resources left%n",
        submitted.size(), jobs.size(), victimEnded, byState, attempts,
        createsPerName.values().stream().mapToLong(Long::longValue).sum(), createsPerName.size(),
        model.allocations(), model.liveResources());

    assertThat(submitted).hasSize(2 * JOBS_EACH + JOBS_OF_THE_VICTIM);
    assertThat(jobs).extracting(JobRecord::id).containsAll(submitted);
    assertThat(store.unfinished()).isEmpty();
    assertThat(notOnce).as("jobs that did not end exactly once").isEmpty();
    assertThat(jobs).allSatisfy(r -> {
      assertThat(r.state()).isIn(JobState.SUCCEEDED, JobState.FAILED);
      assertThat(r.attempts()).as("attempts of %s", r.id()).hasSize(1);
      assertThat(r.attempts()).noneMatch(Attempt::isLive);
    });
    assertThat(model.allocations()).as("no resource name allocated twice").isEqualTo(createsPerName.size());
    assertThat(model.liveResources()).as("resources left").isZero();
  }

  private final List<String> victimLines = new CopyOnWriteArrayList<>();

  private Process launch(int index, int jobs, Map<String, List<String>> ended, List<String> submitted) throws IOException {
    List<String> cmd = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
        // Renewed every third of it; on a loaded machine shorter leases get taken from live instances.
        "-Dcrash.leaseMillis=10000",
        "-cp", System.getProperty("java.class.path"),
        CrashChild.class.getName(), "instance", Integer.toString(emulator.port()), "pg:" + schema,
        Integer.toString(jobs), Integer.toString(index * 10_000));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    children.add(p);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (index == 2) {
            victimLines.add(line);
          }
          if (line.startsWith("SUBMITTED ")) {
            submitted.add(line.substring("SUBMITTED ".length()));
          } else if (line.startsWith("ENDED ")) {
            String[] parts = line.split(" ");
            ended.computeIfAbsent(parts[1], k -> new CopyOnWriteArrayList<>()).add("instance " + index + " " + parts[2]);
          }
        }
      } catch (IOException e) {
        // the process died
      }
    }, "instance-" + index + "-reader");
    reader.setDaemon(true);
    reader.start();
    return p;
  }

  private List<String> unfinishedRows() throws java.sql.SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = pool.getConnection();
        ResultSet rs = c.createStatement().executeQuery("SELECT id, state, version, lease_owner, lease_until, message FROM \""
            + schema + "\".accel_jobs WHERE terminal = FALSE")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2) + " v" + rs.getLong(3) + " leased by " + rs.getString(4)
            + " until " + rs.getString(5) + ": " + rs.getString(6));
      }
    }
    return rows;
  }

  private List<String> allIds() throws java.sql.SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = pool.getConnection();
        ResultSet rs = c.createStatement().executeQuery("SELECT id FROM \"" + schema + "\".accel_jobs")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }
}
