package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.LogChunk;
import dev.acceldispatch.spi.LogSource;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.testkit.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local provider's log surface: lines by byte position, live and after the end. */
class LocalLogSourceTest {
  @TempDir Path tmp;
  private LocalProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeEach
  void setUp() {
    provider = new FakeHost(tmp).builder().terminationGrace(Duration.ofMillis(300)).build();
  }

  @AfterEach
  void releaseAll() {
    created.forEach(provider::release);
  }

  private Attempt attempt(String name, Offer offer, boolean live) {
    return new Attempt(1, offer, false, name, null, Instant.EPOCH, Instant.EPOCH, live ? null : Instant.EPOCH,
        live ? null : AttemptOutcome.SUCCEEDED, Money.ZERO, "");
  }

  private Path stdout(String name) throws IOException {
    Path dir = tmp.resolve("logs").resolve(name);
    Files.createDirectories(dir);
    return dir.resolve("stdout.log");
  }

  @Test
  void readLog_runningWorkload_followsItsLinesInOrderWithoutRepeats() {
    Offer cpu = FakeHost.offer(provider, "cpu");
    ProvisionRequest req = FakeHost.request("logs", cpu,
        Workload.script("for i in 1 2 3 4 5; do echo \"line $i\"; sleep 0.1; done; echo oops >&2").build());
    created.add(provider.provision(req));
    Attempt live = attempt(req.resourceName(), cpu, true);

    List<String> seen = new ArrayList<>();
    long[] pos = {0};
    Await.until("five lines", Duration.ofSeconds(20), Duration.ofMillis(30), () -> {
      LogChunk c = provider.readLog(live, LogSource.Stream.STDOUT, pos[0], 2);
      seen.addAll(c.lines());
      pos[0] = c.nextPosition();
      return seen.size() >= 5 ? seen : null;
    });

    assertThat(seen).containsExactly("line 1", "line 2", "line 3", "line 4", "line 5");
    assertThat(Await.until("stderr", Duration.ofSeconds(20), Duration.ofMillis(30), () -> {
      List<String> err = provider.readLog(live, LogSource.Stream.STDERR, 0, 10).lines();
      return err.isEmpty() ? null : err;
    })).containsExactly("oops");
  }

  @Test
  void readLog_partialLastLine_isHeldBackWhileLiveAndReturnedOnceEnded() throws IOException {
    Files.write(stdout("ad-partial-a1"), "whole\nhalf é".getBytes(StandardCharsets.UTF_8));
    Offer cpu = FakeHost.offer(provider, "cpu");

    LogChunk live = provider.readLog(attempt("ad-partial-a1", cpu, true), LogSource.Stream.STDOUT, 0, 10);
    LogChunk ended = provider.readLog(attempt("ad-partial-a1", cpu, false), LogSource.Stream.STDOUT, live.nextPosition(), 10);

    assertThat(live.lines()).containsExactly("whole");
    assertThat(live.nextPosition()).isEqualTo(6);
    assertThat(ended.lines()).containsExactly("half é");
    assertThat(provider.readLog(attempt("ad-partial-a1", cpu, false), LogSource.Stream.STDOUT, ended.nextPosition(), 10).lines())
        .isEmpty();
  }

  @Test
  void readLog_noFileYet_isEmptyAtTheSamePosition() {
    LogChunk c = provider.readLog(attempt("ad-none-a1", FakeHost.offer(provider, "cpu"), true), LogSource.Stream.STDOUT, 0, 10);

    assertThat(c.lines()).isEmpty();
    assertThat(c.nextPosition()).isZero();
  }

  @Test
  void readLog_resourceNameLeavingTheLogDirectory_isRefused() {
    Attempt crafted = attempt("../../etc", FakeHost.offer(provider, "cpu"), false);

    assertThatThrownBy(() -> provider.readLog(crafted, LogSource.Stream.STDOUT, 0, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attempt.resourceName");
  }
}
