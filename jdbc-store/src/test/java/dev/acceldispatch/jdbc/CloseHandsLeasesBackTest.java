package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing a dispatcher on a durable, leasing store (an H2 file here) in real time, with its own
 * scheduler thread: what a host does at shutdown.
 */
class CloseHandsLeasesBackTest {
  @TempDir Path dir;

  @Test
  void close_leasesKeptUntilExpiryAndH2FileUnusable_becauseTheGiveBackTaskWasDroppedOrInterrupted() {
    Path file = dir.resolve("jobs");
    CloudModel cloud = CloudModel.create();
    FakeProvider fake = FakeProvider.builder("fake", cloud)
        .offer("r1", "r1-a", Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), "h100x8", 80, null).build();
    List<String> ids = new ArrayList<>();
    try (JdbcJobStore store = JdbcJobStore.h2File(file)) {
      Dispatcher d = Dispatcher.builder().provider(fake).store(store).fleetId("close-test")
          .pollInterval(Duration.ofMillis(20), Duration.ofMillis(50)).leaseDuration(Duration.ofMinutes(10)).build();
      List<JobHandle> jobs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        jobs.add(d.submit(JobSpec.builder("long-" + i).container("registry.example/train:1", "python", "train.py")
            .env("FAKE_RUN_SECONDS", "3600").accelerators(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8)).build()));
      }
      jobs.forEach(j -> ids.add(j.id()));
      Await.until("8 running jobs", Duration.ofSeconds(30), Duration.ofMillis(20),
          () -> jobs.stream().allMatch(j -> j.state() == JobState.RUNNING) ? Boolean.TRUE : null);

      d.close();

      // Every lease was given back before close returned: another instance takes all eight now,
      // ten minutes before the leases would have expired.
      List<JobRecord> taken = store.acquireLeases("successor", Instant.now(), Duration.ofMinutes(1), 100);
      assertThat(taken).extracting(JobRecord::id).containsExactlyInAnyOrderElementsOf(ids);
      Await.noThreadAlive("accel-dispatch-close-test", Duration.ofSeconds(5));
    }
    // The host's store file opens again in the same JVM, with every job still there.
    try (JdbcJobStore reopened = JdbcJobStore.h2File(file)) {
      assertThat(reopened.unfinished()).extracting(JobRecord::id).containsExactlyInAnyOrderElementsOf(ids);
    }
    // The fake cloud's machines of this test are in memory and go with it; released here anyway.
    fake.listOwned("close-test").forEach(fake::release);
  }
}
