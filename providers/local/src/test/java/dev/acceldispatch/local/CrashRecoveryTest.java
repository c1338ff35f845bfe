package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dispatcher that crashes leaves its attempts running; a new provider on the same state
 * directory finds them, tells their state, and ends them, and never trusts a reused pid.
 */
class CrashRecoveryTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(50);

  @TempDir Path tmp;
  private FakeHost host;
  private final ProcessTree processes = new ProcessTree();
  private final List<Process> strangers = new ArrayList<>();
  private LocalProvider cleaner;

  @BeforeEach
  void setUp() {
    host = new FakeHost(tmp);
  }

  @AfterEach
  void cleanUp() {
    if (cleaner != null) {
      cleaner.listOwned("crash").forEach(cleaner::release);
    }
    strangers.forEach(Process::destroyForcibly);
  }

  /** A provider as a (re)started dispatcher would build it. */
  private LocalProvider start() {
    LocalProvider p = host.builderWithGpus(1, "NVIDIA L4", 23034).build();
    cleaner = p;
    return p;
  }

  private static ProvisionRequest request(LocalProvider p, String script) {
    return FakeHost.request("crash", FakeHost.offer(p, "nvidia-l4-x1"), Workload.script(script).build());
  }

  private static long awaitPid(ProvisionedResource r, String file) {
    Path f = Path.of(r.attributes().get(LocalProvider.ATTR_LOG_DIR)).resolve(file);
    return Await.until(file, PATIENCE, POLL, () -> {
      try {
        String s = Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : "";
        return s.isEmpty() ? null : Long.parseLong(s);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  @Test
  void restartedProvider_attemptStillRunning_findsAdoptsAndEndsItsWholeTree() {
    LocalProvider before = start();
    ProvisionRequest req = request(before, "sleep 300 & echo $! > child.pid; ( sleep 300 & echo $! > orphan.pid ); wait");
    ProvisionedResource r = before.provision(req);
    long child = awaitPid(r, "child.pid");
    long orphan = awaitPid(r, "orphan.pid");
    // The dispatcher "crashes": nothing is released, the provider object is simply dropped.

    LocalProvider after = start();
    assertThat(after.listOwned("crash")).extracting(ProvisionedResource::name).containsExactly(r.name());
    assertThat(after.status(r).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
    ProvisionedResource adopted = after.provision(req);
    assertThat(adopted.attributes()).isEqualTo(r.attributes());
    assertThatThrownBy(() -> after.provision(request(after, "exit 0")))
        .as("the adopted attempt still holds the only GPU")
        .isInstanceOf(ProviderException.CapacityUnavailable.class);

    after.release(adopted);

    assertThat(processes.isLive(child)).isFalse();
    assertThat(processes.isLive(orphan)).isFalse();
    assertThat(after.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    assertThat(after.listOwned("crash")).isEmpty();
  }

  @Test
  void restartedProvider_attemptEndedWhileDown_reportsTheExitCodeTheScriptPersisted() {
    LocalProvider before = start();
    ProvisionedResource r = before.provision(request(before, "exit 7"));
    Await.until("end", PATIENCE, POLL, () -> before.status(r).phase().isTerminal() ? true : null);

    ResourceStatus s = start().status(r);

    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(s.exitCode()).isEqualTo(7);
    assertThat(s.attributes()).containsKey(LocalProvider.ATTR_LOG_DIR);
  }

  @Test
  void status_shellKilledFromOutside_reportsPreemptedNotSuccess() {
    LocalProvider p = start();
    ProvisionedResource r = p.provision(request(p, "sleep 300"));
    long shell = Long.parseLong(r.attributes().get(LocalProvider.ATTR_PID));
    ProcessHandle.of(shell).ifPresent(ProcessHandle::destroyForcibly);

    ResourceStatus s = Await.until("preempted", PATIENCE, POLL, () -> {
      ResourceStatus x = p.status(r);
      return x.phase() == ResourceStatus.Phase.RUNNING ? null : x;
    });

    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(s.detail()).contains("without reporting an exit code");
  }

  @Test
  void status_recordedPidNowBelongsToAnotherProcess_isNotTrustedAndReleaseLeavesThatProcessAlone()
      throws IOException {
    LocalProvider p = start();
    Process stranger = new ProcessBuilder("sleep", "60").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
    strangers.add(stranger);
    long realStart = stranger.info().startInstant().orElseThrow().toEpochMilli();
    // What the state would say had our attempt run under this pid before it was reused.
    AttemptRecord forged = new AttemptRecord("ad-reused-pid-a1", "crash", "reused-pid", 1, "nvidia-l4-x1",
        List.of(0), Workload.Kind.SCRIPT, "", "", stranger.pid(), stranger.pid(), realStart - 60_000,
        UUID.randomUUID().toString(), Instant.now().minusSeconds(60), host.logs.resolve("ad-reused-pid-a1"), Map.of());
    Files.createDirectories(p.store().folder(forged.name()));
    p.store().write(forged);
    ProvisionedResource r = ProvisionedResource.of("local", forged.name(), p.zone());

    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.PREEMPTED);
    assertThat(p.listOwned("crash")).extracting(ProvisionedResource::name).containsExactly(forged.name());
    p.release(r);

    assertThat(stranger.isAlive()).isTrue();
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void provision_folderLeftHalfMadeByACrash_isGoneThenStartsAfreshAndReleaseClearsIt() throws IOException {
    LocalProvider p = start();
    ProvisionRequest req = request(p, "exit 0");
    Files.createDirectories(p.store().folder(req.resourceName()));
    ProvisionedResource halfMade = ProvisionedResource.of("local", req.resourceName(), p.zone());
    assertThat(p.status(halfMade).phase()).isEqualTo(ResourceStatus.Phase.GONE);
    assertThat(p.listOwned("crash")).isEmpty();

    ProvisionedResource r = p.provision(req);

    assertThat(Await.until("end", PATIENCE, POLL, () -> {
      ResourceStatus s = p.status(r);
      return s.phase().isTerminal() ? s : null;
    }).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    p.release(r);
    Files.createDirectories(p.store().folder(req.resourceName()));
    p.release(halfMade);
    assertThat(p.store().exists(req.resourceName())).isFalse();
  }

  @Test
  void status_unknownOrMalformedName_isGoneAndReleaseIsANoOp() {
    LocalProvider p = start();
    for (String name : List.of("ad-never-created-a1", "../../etc", "UPPER")) {
      ProvisionedResource r = ProvisionedResource.of("local", name, p.zone());
      assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
      p.release(r);
    }
    assertThat(tmp.getParent().resolve("etc")).doesNotExist();
  }

  @Test
  void restartedProvider_crashBeforeThePidWasRecorded_stillFindsAndEndsTheProcessByItsMarker() throws IOException {
    LocalProvider p = start();
    String token = UUID.randomUUID().toString();
    AttemptRecord unrecordedPid = new AttemptRecord("ad-no-pid-a1", "crash", "no-pid", 1, "nvidia-l4-x1",
        List.of(0), Workload.Kind.SCRIPT, "", "", 0, 0, 0, token, Instant.now(), host.logs.resolve("ad-no-pid-a1"),
        Map.of());
    Files.createDirectories(p.store().folder(unrecordedPid.name()));
    p.store().write(unrecordedPid);
    ProcessBuilder pb = new ProcessBuilder("sleep", "60").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put(ProcessTree.MARKER_VARIABLE, token);
    Process orphan = pb.start();
    strangers.add(orphan);
    ProvisionedResource r = ProvisionedResource.of("local", unrecordedPid.name(), p.zone());

    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
    p.release(r);

    assertThat(processes.isLive(orphan.pid())).isFalse();
    assertThat(p.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void listOwnedAndProvision_stateDirectoryBroken_failTransientlyNeverSilently() throws IOException {
    LocalProvider p = start();
    Path attempts = host.state.resolve("attempts");
    Files.delete(attempts);
    Files.writeString(attempts, "not a directory");

    assertThatThrownBy(() -> p.listOwned("crash"))
        .isInstanceOfSatisfying(ProviderException.Transient.class, e -> assertThat(e.cloudCode()).isEqualTo("IO_ERROR"));
    assertThatThrownBy(() -> p.provision(request(p, "exit 0")))
        .isInstanceOf(ProviderException.Transient.class);
    Files.delete(attempts);
    Files.createDirectory(attempts);
  }
}
