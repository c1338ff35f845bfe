package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.rpc.NotFoundException;
import com.google.cloud.compute.v1.GetSerialPortOutputInstanceRequest;
import com.google.cloud.compute.v1.SerialPortOutput;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.LogChunk;
import dev.acceldispatch.spi.LogSource;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link GcpGpuProvider} as a {@link LogSource}: the real InstancesClient against the emulator's serial port. */
class GcpGpuLogSourceTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static EmulatedGce gce;
  private static GcpGpuProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeAll
  static void startEmulator() {
    gce = new EmulatedGce();
    gce.model.setProvisioningTime(Duration.ofMillis(200)).setDefaultWorkload(Duration.ofMillis(400), 0);
    provider = gce.provider().build();
  }

  @AfterAll
  static void stopEmulator() {
    gce.close();
  }

  @AfterEach
  void releaseAll() {
    gce.emulator.serialBufferBytes(1 << 20);
    created.forEach(provider::release);
    created.clear();
  }

  private Offer t4() {
    return provider.offers().stream()
        .filter(o -> o.zone().equals(EmulatedGce.ZONE) && o.machineType().equals("n1-standard-4"))
        .findFirst()
        .orElseThrow();
  }

  private ProvisionedResource run(String script) {
    String job = "l" + SEQ.incrementAndGet() + Long.toString(System.nanoTime() % 1_000_000L, 36);
    Workload w = Workload.script(script).build()
        .withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1"));
    ProvisionedResource res = provider.provision(
        new ProvisionRequest("ad-" + job + "-a1", "fleet-logs", job, 1, t4(), false, w, Map.of(), null));
    created.add(res);
    return res;
  }

  private static void awaitExit(ProvisionedResource res) {
    Await.until(res.name() + " exited", Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      ResourceStatus s = provider.status(res);
      return s.phase() == ResourceStatus.Phase.SUCCEEDED ? s : null;
    });
  }

  private Attempt attempt(ProvisionedResource res, boolean live) {
    return new Attempt(1, t4(), false, res.name(), res, Instant.EPOCH, Instant.EPOCH, live ? null : Instant.EPOCH,
        live ? null : AttemptOutcome.SUCCEEDED, Money.ZERO, "");
  }

  private static SerialPortOutput serialPort(String instance, long start) {
    return gce.instances.getSerialPortOutput(GetSerialPortOutputInstanceRequest.newBuilder()
        .setProject(EmulatedGce.PROJECT).setZone(EmulatedGce.ZONE).setInstance(instance).setPort(1).setStart(start).build());
  }

  @Test
  void readLog_liveAttempt_returnsCompleteLinesOnly_andPositionsContinue() {
    ProvisionedResource res = run("printf 'one\\ntwo\\nthree\\npart'");
    Attempt live = attempt(res, true);
    assertThat(provider.readLog(live, LogSource.Stream.STDOUT, 0, 10).lines()).isEmpty();
    awaitExit(res);

    LogChunk first = provider.readLog(live, LogSource.Stream.STDOUT, 0, 2);
    LogChunk second = provider.readLog(live, LogSource.Stream.STDOUT, first.nextPosition(), 10);
    LogChunk nothing = provider.readLog(live, LogSource.Stream.STDOUT, second.nextPosition(), 10);

    assertThat(first.lines()).containsExactly("one", "two");
    assertThat(first.nextPosition()).isEqualTo("one\ntwo\n".length());
    assertThat(second.lines()).containsExactly("three");
    assertThat(nothing.lines()).isEmpty();
    assertThat(nothing.nextPosition()).isEqualTo(second.nextPosition());
  }

  @Test
  void readLog_finishedAttempt_returnsTheTailWithoutNewline_andEndsAtTheApisNext() {
    ProvisionedResource res = run("printf 'one\\ntwo\\npart'");
    awaitExit(res);
    Attempt ended = attempt(res, false);

    LogChunk head = provider.readLog(attempt(res, true), LogSource.Stream.STDOUT, 0, 10);
    LogChunk tail = provider.readLog(ended, LogSource.Stream.STDOUT, head.nextPosition(), 10);

    assertThat(head.lines()).containsExactly("one", "two");
    assertThat(tail.lines()).containsExactly("part");
    assertThat(tail.nextPosition()).isEqualTo(serialPort(res.name(), 0).getNext());
    assertThat(provider.readLog(ended, LogSource.Stream.STDOUT, tail.nextPosition(), 10).lines()).isEmpty();
  }

  @Test
  void readLog_consoleHoldsStdoutAndStderrInOrder_stderrStreamIsEmpty() {
    ProvisionedResource res = run("echo out; echo err >&2");
    awaitExit(res);
    Attempt ended = attempt(res, false);

    assertThat(provider.readLog(ended, LogSource.Stream.STDOUT, 0, 10).lines()).containsExactly("out", "err");
    LogChunk stderr = provider.readLog(ended, LogSource.Stream.STDERR, 0, 10);
    assertThat(stderr.lines()).isEmpty();
    assertThat(stderr.nextPosition()).isZero();
  }

  @Test
  void provision_startupScript_sendsItsOutputToSerialPort1BeforeTheWorkload() {
    ProvisionedResource res = run("echo marker-line");
    String script = gce.emulator.insertedInstance(res.name()).orElseThrow().getMetadata().getItemsList().stream()
        .filter(i -> i.getKey().equals("startup-script")).findFirst().orElseThrow().getValue();

    assertThat(script).contains(GcpGpuProvider.SERIAL_CONSOLE_REDIRECT);
    assertThat(script.indexOf(GcpGpuProvider.SERIAL_CONSOLE_REDIRECT)).isLessThan(script.indexOf("marker-line"));
  }

  @Test
  void readLog_startInDiscardedOutput_marksTheLostBytesThenContinues() {
    gce.emulator.serialBufferBytes(10);
    ProvisionedResource res = run("printf 'aaaa\\nbbbb\\ncccc\\ndddd\\n'");
    awaitExit(res);

    LogChunk chunk = provider.readLog(attempt(res, false), LogSource.Stream.STDOUT, 0, 10);

    assertThat(chunk.lines()).containsExactly(SerialConsole.discardedMarker(10), "cccc", "dddd");
    assertThat(chunk.nextPosition()).isEqualTo(20);
  }

  @Test
  void readLog_instanceDeleted_returnsNoLines() {
    ProvisionedResource res = run("echo gone");
    awaitExit(res);
    provider.release(res);
    created.remove(res);

    LogChunk chunk = provider.readLog(attempt(res, false), LogSource.Stream.STDOUT, 0, 10);

    assertThat(chunk.lines()).isEmpty();
    assertThat(chunk.nextPosition()).isZero();
  }

  @Test
  void readLog_badArguments_throwNamingTheField() {
    ProvisionedResource res = run("true");
    assertThatThrownBy(() -> provider.readLog(attempt(res, true), LogSource.Stream.STDOUT, -1, 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("position");
    assertThatThrownBy(() -> provider.readLog(attempt(res, true), LogSource.Stream.STDOUT, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxLines");
  }

  // ---- the emulator's serialPort, through the real client ---------------------------------------

  @Test
  void getSerialPortOutput_startAndNext_followTheReference() {
    gce.emulator.serialBufferBytes(10);
    ProvisionedResource res = run("printf 'aaaa\\nbbbb\\ncccc\\ndddd\\n'");
    awaitExit(res);

    SerialPortOutput fromHeld = serialPort(res.name(), 15);
    SerialPortOutput fromDiscarded = serialPort(res.name(), 0);
    SerialPortOutput lastBytes = serialPort(res.name(), -5);

    assertThat(fromHeld.getContents()).isEqualTo("dddd\n");
    assertThat(fromHeld.getStart()).isEqualTo(15);
    assertThat(fromHeld.getNext()).isEqualTo(20);
    assertThat(fromDiscarded.getStart()).isEqualTo(10);
    assertThat(fromDiscarded.getContents()).isEqualTo("cccc\ndddd\n");
    assertThat(lastBytes.getStart()).isEqualTo(15);
    assertThat(lastBytes.getContents()).isEqualTo("dddd\n");
    assertThat(fromHeld.getContents().getBytes(StandardCharsets.UTF_8)).hasSize(5);
  }

  @Test
  void getSerialPortOutput_unknownInstance_isNotFound() {
    assertThatThrownBy(() -> serialPort("no-such-instance", 0))
        .isInstanceOf(NotFoundException.class);
  }
}
