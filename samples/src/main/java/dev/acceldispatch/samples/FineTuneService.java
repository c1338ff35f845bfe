package dev.acceldispatch.samples;

import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What a host service's own code around the dispatcher looks like: it turns a business request
 * (fine-tune this model on that data set) into a job on a TPU v5e-8 slice or eight H100s, whichever
 * is cheaper, and tells its caller where it ran. {@code FineTuneServiceTest} shows how such code is
 * tested with the testkit, in virtual time and against a cloud emulator.
 */
public final class FineTuneService {
  /** The training image the service runs. */
  public static final String IMAGE = "us-docker.pkg.dev/acme/train:1.4";

  private final Dispatcher dispatcher;

  /** A service on a dispatcher its host built (and closes). */
  public FineTuneService(Dispatcher dispatcher) {
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
  }

  /** Where a fine-tune ran and how it ended. */
  public record Outcome(String model, boolean succeeded, String offer, int attempts, String cost) {}

  /** Submits a fine-tune of {@code model} on {@code dataset}; completes when the job has ended. */
  public CompletableFuture<Outcome> fineTune(String model, String dataset) {
    JobSpec spec = JobSpec.builder("finetune-" + model)
        .container(IMAGE, "python", "train.py", "--model=" + model, "--data=" + dataset)
        .accelerators(AcceleratorRequest.anyOf(
            Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8)))
        .referenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), Duration.ofHours(2))
        .spot(SpotPolicy.PREFER)
        .tenant("research")
        .build();
    return dispatcher.submit(spec).result().thenApply(r -> outcome(model, r));
  }

  private static Outcome outcome(String model, JobResult r) {
    return new Outcome(model, r.state() == dev.acceldispatch.JobState.SUCCEEDED,
        r.lastAttempt().map(a -> a.offer().key()).orElse("-"), r.attempts().size(), r.cost().toString());
  }
}
