package dev.acceldispatch;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A submitted job, live view. Thread-safe. Obtained from {@code Dispatcher.submit} or
 * {@code Dispatcher.job}.
 */
public interface JobHandle {
  /** The job id, unique within the store. */
  String id();

  /** What was submitted. */
  JobSpec spec();

  /** The current state. */
  JobState state();

  /** The attempts so far, in order. */
  List<Attempt> attempts();

  /** What the job has cost so far. */
  Money cost();

  /**
   * Completes with the result when the job ends, after its resources have been released (or handed
   * to the background releaser when the cloud would not release them at once). Cancelling this
   * future cancels the job.
   */
  CompletableFuture<JobResult> result();

  /**
   * Asks the job to stop, in whatever state it is: a queued job is dropped, a provisioning or
   * running one has its resource released. Returns at once; {@link #result()} completes when done.
   *
   * @return false when the job had already ended
   */
  boolean cancel();
}
