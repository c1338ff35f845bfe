package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Running real processes: exit codes, logs, cancel mid-run, huge output, hostile input. */
class ProcessLifecycleTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(50);

  @TempDir Path tmp;
  private FakeHost host;
  private LocalProvider provider;
  private final ProcessTree processes = new ProcessTree();
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeEach
  void setUp() {
    host = new FakeHost(tmp);
    provider = host.builderWithGpus(2, "NVIDIA L4", 23034).terminationGrace(Duration.ofMillis(500)).build();
  }

  @AfterEach
  void releaseAll() {
    created.forEach(provider::release);
  }

  private ProvisionedResource run(Workload w) {
    ProvisionedResource r = provider.provision(FakeHost.request("life", FakeHost.offer(provider, "cpu"), w));
    created.add(r);
    return r;
  }

  private ProvisionedResource run(String script) {
    return run(Workload.script(script).build());
  }

  private ResourceStatus awaitEnd(ProvisionedResource r) {
    return Await.until("end of " + r.name(), PATIENCE, POLL, () -> {
      ResourceStatus s = provider.status(r);
      return s.phase().isTerminal() ? s : null;
    });
  }

  private static Path logDir(ProvisionedResource r) {
    return Path.of(r.attributes().get(LocalProvider.ATTR_LOG_DIR));
  }

  /** Waits until the workload wrote {@code file} in its folder; returns its text. */
  private static String awaitFile(ProvisionedResource r, String file) {
    Path f = logDir(r).resolve(file);
    return Await.until(file + " of " + r.name(), PATIENCE, POLL, () -> {
      try {
        String s = Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : "";
        return s.isEmpty() ? null : s;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static String read(Path f) {
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "exit {0}")
  @ValueSource(ints = {0, 1, 3, 42, 255})
  void status_workloadExits_reportsItsExitCodeAndWritesItToTheLogFolder(int code) {
    ProvisionedResource r = run("echo out; echo err >&2; exit " + code);
    ResourceStatus end = awaitEnd(r);
    assertThat(end.phase()).isEqualTo(code == 0 ? ResourceStatus.Phase.SUCCEEDED : ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(code);
    assertThat(end.detail()).isEqualTo("exited with code " + code);
    assertThat(read(logDir(r).resolve("exit-code")).strip()).isEqualTo(Integer.toString(code));
    assertThat(read(Path.of(end.attributes().get(LocalProvider.ATTR_STDOUT)))).isEqualTo("out\n");
    assertThat(read(Path.of(end.attributes().get(LocalProvider.ATTR_STDERR)))).isEqualTo("err\n");
    assertThat(end.attributes().get(LocalProvider.ATTR_LOG_DIR)).startsWith(host.logs.toString());
  }

  @Test
  void status_workloadKilledBySignal_reportsFailedWith128PlusTheSignal() {
    ResourceStatus end = awaitEnd(run("kill -9 $$"));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(137);
  }

  @Test
  void status_runningWorkload_isRunningUntilItEnds() {
    ProvisionedResource r = run("while [ ! -e go ]; do sleep 0.05; done; exit 5");
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
    try {
      Files.writeString(logDir(r).resolve("go"), "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(awaitEnd(r).exitCode()).isEqualTo(5);
  }

  @Test
  void status_workloadGetsEngineVariablesAndRunsInItsLogFolder() throws IOException {
    ProvisionedResource r = run("printf '%s %s %s' \"$ACCEL_DISPATCH_JOB_ID\" \"$ACCEL_DISPATCH_ATTEMPT\" \"$PWD\" > env.txt");
    awaitEnd(r);
    String job = r.name().substring(3, r.name().length() - 3);
    assertThat(read(logDir(r).resolve("env.txt"))).isEqualTo(job + " 1 " + logDir(r).toRealPath());
  }

  @Test
  void status_workloadReadsStdin_getsEndOfFileInsteadOfHanging() {
    assertThat(awaitEnd(run("cat; exit 4")).exitCode()).isEqualTo(4);
  }

  @Test
  void status_hugeOutputOnBothStreams_neverBlocksAndIsAllKept() throws IOException {
    ProvisionedResource r = run("head -c 52428800 /dev/zero; head -c 10485760 /dev/zero >&2; exit 0");
    ResourceStatus end = awaitEnd(r);
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(Files.size(logDir(r).resolve(LocalProvider.STDOUT_FILE))).isEqualTo(52_428_800L);
    assertThat(Files.size(logDir(r).resolve(LocalProvider.STDERR_FILE))).isEqualTo(10_485_760L);
  }

  @Test
  void release_midRun_endsTheWholeTreeIncludingGrandchildrenOrphansAndNewSessions() {
    ProvisionedResource r = run(
        "sleep 300 & echo $! > child.pid\n"
            + "sh -c 'sleep 300 & echo $! > grandchild.pid; wait' &\n"
            + "( sleep 300 & echo $! > orphan.pid ) \n"
            + "setsid sleep 300 & echo $! > session.pid\n"
            + "wait\n");
    List<Long> pids = Stream.of("child.pid", "grandchild.pid", "orphan.pid", "session.pid")
        .map(f -> Long.parseLong(awaitFile(r, f))).toList();
    long shell = Long.parseLong(r.attributes().get(LocalProvider.ATTR_PID));
    assertThat(pids).allMatch(processes::isLive);
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);

    provider.release(r);

    assertThat(processes.isLive(shell)).isFalse();
    assertThat(pids).noneMatch(processes::isLive);
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    assertThat(provider.listOwned("life")).isEmpty();
    assertThat(logDir(r)).as("logs are kept after release").isDirectory();
  }

  @Test
  void release_workloadIgnoringSigterm_isKilledAfterTheGracePeriod() {
    ProvisionedResource r = run("trap '' TERM; sleep 300 & echo $! > child.pid; wait; wait");
    long child = Long.parseLong(awaitFile(r, "child.pid"));
    long started = System.nanoTime();

    provider.release(r);

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
    assertThat(processes.isLive(child)).isFalse();
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void release_workloadAlreadyEnded_succeedsAndForgetsIt() {
    ProvisionedResource r = run("exit 0");
    awaitEnd(r);
    provider.release(r);
    provider.release(r);
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void provision_hostileCharactersInScriptAndEnv_reachTheWorkloadUnchangedAndExecuteNothing() {
    String hostile = "it's \"quoted\" $(touch pwned1) `touch pwned2`; touch pwned3 && echo $HOME \\\n"
        + "line two\t\u00fcn\u00efc\u00f8d\u00e9 \u2713 '\"'\"' $((1+1)) ${HOME} *";
    Workload w = Workload.script("printf '%s' \"$HOSTILE\" > hostile.out\n"
            + "printf '%s' 'literal $(touch pwned4) `touch pwned5`' > literal.out\n")
        .env("HOSTILE", hostile).build();
    ProvisionedResource r = run(w);
    assertThat(awaitEnd(r).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(read(logDir(r).resolve("hostile.out"))).isEqualTo(hostile);
    assertThat(read(logDir(r).resolve("literal.out"))).isEqualTo("literal $(touch pwned4) `touch pwned5`");
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("pwned"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void provision_secretEnv_reachesTheProcessButNoFileAndNoResourceAttribute() throws IOException {
    String value = "s3cr3t-'value'-$(id)";
    Workload w = Workload.script("[ -n \"$TOKEN\" ] || exit 9; printf '%s' \"$TOKEN\" | wc -c > token-length.txt")
        .secretEnv("TOKEN", Secret.of(value)).build();
    ProvisionedResource r = run(w);
    assertThat(awaitEnd(r).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(read(logDir(r).resolve("token-length.txt")).strip()).isEqualTo(Integer.toString(value.length()));
    assertThat(r.attributes().values()).noneMatch(v -> v.contains("s3cr3t"));
    try (Stream<Path> files = Files.walk(tmp)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(read(f)).as("file %s", f).doesNotContain("s3cr3t");
      }
    }
  }

  @Test
  void provision_environment_passesOnlyChosenVariablesOfThisJvm() {
    LocalProvider p = host.builder().environment("ACCEL_TEST_FIXED", "fixed").build();
    ProvisionedResource r = p.provision(FakeHost.request("life", FakeHost.offer(p, "cpu"),
        Workload.script("env > env.txt").build()));
    try {
      awaitEnd(r);
      String env = "\n" + read(logDir(r).resolve("env.txt"));
      assertThat(env).contains("ACCEL_TEST_FIXED=fixed\n").contains("PATH=");
      Set<String> setByTheShell = Set.of("PWD", "OLDPWD", "SHLVL", "_", "IFS", "PPID", "OPTIND", "PS1", "PS2", "PS4");
      for (String name : System.getenv().keySet()) {
        boolean setByTheProvider = name.startsWith("ACCEL_") || name.startsWith("CUDA_");
        if (!LocalProvider.DEFAULT_PASSED_ENV.contains(name) && !setByTheShell.contains(name) && !setByTheProvider) {
          assertThat(env).as("JVM variable %s", name).doesNotContain("\n" + name + "=");
        }
      }
    } finally {
      p.release(r);
    }
  }

  @Test
  void provision_sameNameForAnotherFleet_isRefusedNotAdopted() {
    ProvisionedResource mine = run("sleep 30");
    dev.acceldispatch.spi.ProvisionRequest theirs = new dev.acceldispatch.spi.ProvisionRequest(mine.name(),
        "other-fleet", "other-job", 1, FakeHost.offer(provider, "cpu"), false, Workload.script("exit 0").build(),
        java.util.Map.of(), null);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> provider.provision(theirs))
        .isInstanceOfSatisfying(dev.acceldispatch.spi.ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudCode()).isEqualTo("NAME_IN_USE"));
    assertThat(provider.status(mine).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
  }

  @Test
  void provision_scriptLongerThanOneShellArgument_isRefusedBeforeAnythingStarts() {
    Workload huge = Workload.script("# " + "x".repeat(LocalProvider.MAX_SCRIPT_BYTES) + "\nexit 0").build();
    dev.acceldispatch.spi.ProvisionRequest req = FakeHost.request("life", FakeHost.offer(provider, "cpu"), huge);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> provider.provision(req))
        .isInstanceOfSatisfying(dev.acceldispatch.spi.ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudCode()).isEqualTo("SCRIPT_TOO_LONG"));
    assertThat(provider.listOwned("life")).isEmpty();
  }

  @Test
  void provision_scriptJustUnderTheLimit_runs() {
    String script = "exit 0\n#" + "x".repeat(100_000);
    assertThat(awaitEnd(run(script)).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
  }
}
