package dev.acceldispatch.testkit.engine;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.testkit.FakeProvider;
import dev.acceldispatch.testkit.ManualScheduler;
import dev.acceldispatch.testkit.RecordingListener;
import dev.acceldispatch.testkit.cloud.CloudModel;
import java.time.Duration;
import java.util.function.Consumer;

/** A dispatcher in virtual time over fake providers on one cloud model. */
final class EngineHarness implements AutoCloseable {
  static final AcceleratorShape H100X8 = Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8);
  static final AcceleratorShape V5E8 = Shapes.tpuV5e(8);

  final ManualScheduler scheduler = new ManualScheduler();
  final CloudModel cloud = CloudModel.create(scheduler.manualClock(), 7);
  final RecordingListener events = new RecordingListener();
  final FakeProvider provider;
  final Dispatcher dispatcher;

  EngineHarness(Consumer<FakeProvider.Builder> offers, Consumer<Dispatcher.Builder> settings) {
    FakeProvider.Builder pb = FakeProvider.builder("fake", cloud);
    offers.accept(pb);
    provider = pb.build();
    Dispatcher.Builder db =
        Dispatcher.builder()
            .provider(provider)
            .scheduler(scheduler)
            .providerExecutor(Runnable::run)
            .pollInterval(Duration.ofSeconds(1), Duration.ofSeconds(10))
            .listener(events);
    settings.accept(db);
    dispatcher = db.build();
  }

  /** Three H100 zones (a cheapest, then b, then c in another region) with spot tiers. */
  static EngineHarness threeZones(Consumer<Dispatcher.Builder> settings) {
    return new EngineHarness(
        p -> p.offer("r1", "r1-a", H100X8, "h100x8", 80, 16.0)
            .offer("r1", "r1-b", H100X8, "h100x8", 85, 17.0)
            .offer("r2", "r2-c", H100X8, "h100x8", 90, 18.0),
        settings);
  }

  static JobSpec.Builder job(String name, int runSeconds) {
    return JobSpec.builder(name)
        .container("registry.example/train:1", "python", "train.py")
        .env("FAKE_RUN_SECONDS", Integer.toString(runSeconds))
        .accelerators(H100X8)
        .referenceRunTime(H100X8, Duration.ofSeconds(runSeconds));
  }

  void run(Duration d) {
    scheduler.advance(d);
  }

  @Override
  public void close() {
    dispatcher.close();
    scheduler.advance(Duration.ofMinutes(5));
  }
}
