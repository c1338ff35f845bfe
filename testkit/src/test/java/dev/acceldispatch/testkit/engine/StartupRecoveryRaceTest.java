package dev.acceldispatch.testkit.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Regression: start-up recovery read the store between submit's store write and its registration
 * of the job, adopted the new job as a leftover, and ran it twice while the caller's handle never
 * completed. The latches force that interleaving; the store itself changes nothing.
 */
class StartupRecoveryRaceTest {
  private static final AcceleratorShape H100X8 = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);

  @Test
  void submit_whileStartupRecoveryReadsTheStore_runsTheJobOnceAndCompletesItsHandle() {
    CloudModel cloud = CloudModel.create().setProvisioningTime(Duration.ofMillis(100)).setDefaultWorkload(Duration.ofMillis(300), 0);
    FakeProvider fake = FakeProvider.builder("fake", cloud).offer("r1", "r1-a", H100X8, "h100x8", 80, null).build();
    InMemoryJobStore delegate = new InMemoryJobStore();
    CountDownLatch inserted = new CountDownLatch(1);
    CountDownLatch engineWrote = new CountDownLatch(1);
    JobStore store = new JobStore() {
      @Override
      public void insert(JobRecord job) {
        delegate.insert(job);
        inserted.countDown();
        // Hold submit here until the engine has acted on the store (the buggy engine placed its
        // own copy of the job meanwhile; a correct one waits until the poll below times out).
        await(engineWrote);
      }

      @Override
      public JobRecord update(JobRecord job) {
        JobRecord r = delegate.update(job);
        engineWrote.countDown();
        return r;
      }

      @Override
      public Optional<JobRecord> find(String id) {
        return delegate.find(id);
      }

      @Override
      public List<JobRecord> unfinished() {
        await(inserted);
        return delegate.unfinished();
      }

      @Override
      public List<JobRecord> query(dev.acceldispatch.JobQuery query) {
        return delegate.query(query);
      }
    };
    try (Dispatcher d = Dispatcher.builder().provider(fake).store(store)
        .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200)).build()) {
      JobHandle job = d.submit(JobSpec.builder("once").script("true").accelerators(H100X8).build());
      JobResult r = Await.until("the end of " + job.id(), Duration.ofSeconds(20), Duration.ofMillis(20),
          () -> job.result().isDone() ? job.result().join() : null);
      assertThat(r.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(fake.requests()).as("provision requests for one job").hasSize(1);
    }
    assertThat(cloud.liveResources()).isZero();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
