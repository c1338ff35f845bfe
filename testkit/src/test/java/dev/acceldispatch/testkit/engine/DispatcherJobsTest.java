package dev.acceldispatch.testkit.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.InMemoryJobStore;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobPage;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.testkit.Await;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code Dispatcher.jobs(JobQuery)}: filters and pages through the store, finished jobs included. */
class DispatcherJobsTest {
  private static final AcceleratorShape H100X8 = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);

  @Test
  void jobs_finishedAndRunningJobsOfTwoTenants_areFilteredAndPagedNewestFirst() {
    CloudModel cloud = CloudModel.create().setProvisioningTime(Duration.ofMillis(20)).setDefaultWorkload(Duration.ofMillis(50), 0);
    FakeProvider fake = FakeProvider.builder("fake", cloud).offer("r1", "r1-a", H100X8, "h100x8", 80, null).build();
    InMemoryJobStore store = new InMemoryJobStore();
    try (Dispatcher d = Dispatcher.builder().provider(fake).store(store)
        .pollInterval(Duration.ofMillis(20), Duration.ofMillis(50)).build()) {
      List<JobHandle> submitted = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        submitted.add(d.submit(JobSpec.builder("job" + i).script("true").accelerators(H100X8)
            .tenant(i % 2 == 0 ? "even" : "odd").label("n", Integer.toString(i)).build()));
      }
      for (JobHandle h : submitted) {
        Await.until("end of " + h.id(), Duration.ofSeconds(20), Duration.ofMillis(20), () -> h.result().isDone() ? true : null);
      }

      JobPage even = d.jobs(JobQuery.builder().tenant("even").states(JobState.SUCCEEDED).build());
      assertThat(even.jobs()).extracting(r -> r.spec().name()).containsExactlyInAnyOrder("job0", "job2", "job4");
      assertThat(even.nextPage()).isEmpty();
      assertThat(d.jobs(JobQuery.builder().label("n", "3").build()).jobs()).extracting(JobRecord::id)
          .containsExactly(submitted.get(3).id());

      List<String> paged = new ArrayList<>();
      JobQuery q = JobQuery.builder().limit(2).build();
      while (q != null) {
        JobPage page = d.jobs(q);
        page.jobs().forEach(r -> paged.add(r.id()));
        q = page.next();
      }
      assertThat(paged).containsExactlyInAnyOrderElementsOf(submitted.stream().map(JobHandle::id).toList()).hasSize(5);
    }
    assertThat(cloud.liveResources()).isZero();
  }
}
