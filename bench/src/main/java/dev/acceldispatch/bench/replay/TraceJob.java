package dev.acceldispatch.bench.replay;

/**
 * One job of a trace: the columns both shared traces start with.
 *
 * @param id the trace's job id
 * @param submitSeconds seconds from the trace's zero
 * @param gpus total GPUs of the job
 * @param durationSeconds its actual run time in the trace
 */
public record TraceJob(String id, long submitSeconds, int gpus, long durationSeconds) {
  /** Validates. */
  public TraceJob {
    if (gpus < 1 || durationSeconds < 1 || submitSeconds < 0) {
      throw new IllegalArgumentException("trace job " + id + ": gpus and duration must be >= 1 and submit >= 0");
    }
  }
}
