package dev.acceldispatch.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.testkit.cloud.AllocationRequest;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VirtualCloudExtension.class)
class VirtualCloudExtensionTest {
  private VirtualCloud fromBeforeEach;

  @BeforeEach
  void setUp(VirtualCloud vc) {
    fromBeforeEach = vc;
  }

  private static JobSpec tpuJob(String name) {
    return JobSpec.builder(name).container("registry.example/train:1", "python", "train.py")
        .env("FAKE_RUN_SECONDS", "600").accelerators(Shapes.tpuV5e(8)).build();
  }

  @Test
  void aTestGetsOneVirtualCloudWhoseDispatchersRunInVirtualTime(VirtualCloud vc) {
    assertThat(vc).isSameAs(fromBeforeEach);
    assertThat(vc.seed()).isEqualTo(42);
    vc.cloud().stockout("us-west4-a", CloudModel.ANY, Duration.ofHours(1));
    FakeProvider tpu = vc.provider("fake-tpu")
        .offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, null)
        .offer("us-central1", "us-central1-a", Shapes.tpuV5e(8), "v5litepod-8", 9.70, null)
        .build();
    Dispatcher dispatcher = vc.dispatcher(tpu);

    JobHandle job = dispatcher.submit(tpuJob("fine-tune"));
    vc.advance(Duration.ofMinutes(15));

    assertThat(job.result()).isCompleted();
    assertThat(job.result().join().state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(job.attempts()).extracting(a -> a.outcome()).containsExactly(AttemptOutcome.CAPACITY, AttemptOutcome.SUCCEEDED);
    assertThat(vc.events().events()).isNotEmpty();
  }

  @Test
  void aJobStillRunningWhenTheTestEndsIsCancelledAndReleased_soNothingLeaks(VirtualCloud vc) {
    FakeProvider tpu = vc.provider("fake-tpu").offer("us-west4", "us-west4-a", Shapes.tpuV5e(8), "v5litepod-8", 9.60, null).build();
    JobHandle job = vc.dispatcher(tpu).submit(tpuJob("left-running"));
    vc.advance(Duration.ofMinutes(3));
    assertThat(job.state()).isEqualTo(JobState.RUNNING);
    assertThat(vc.cloud().liveResources()).isEqualTo(1);
    // the extension's afterEach closes the dispatcher, which releases the slice: the test passes
  }

  @Test
  @VirtualCloudSeed(7)
  void theSeedCanBeChosen(VirtualCloud vc) {
    assertThat(vc.seed()).isEqualTo(7);
  }

  @Test
  void aMachineNobodyReleasesIsReportedByName() {
    VirtualCloud vc = new VirtualCloud(1);
    vc.cloud().allocate(new AllocationRequest("orphan-1", "us-west4", "us-west4-a", "tpu-v5e", 8, false, List.of()), Map.of());

    assertThatThrownBy(vc::closeAndCheckForLeaks)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 resource(s) left")
        .hasMessageContaining("orphan-1 in us-west4-a");
  }

  @Test
  void aDispatcherNeedsAProvider() {
    assertThatThrownBy(() -> new VirtualCloud(1).dispatcher())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("providers");
  }
}
