package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.spi.JobRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A handle of a job this instance does not run: finished, or owned by another dispatcher on the
 * same store. It reads the store on every call; {@link #cancel()} asks the owner through the
 * store; {@link #result()} completes when the store shows the job ended.
 */
final class StoredJobHandle implements JobHandle {
  private final EngineContext ctx;
  private final String id;
  private CompletableFuture<JobResult> result;

  StoredJobHandle(EngineContext ctx, String id) {
    this.ctx = ctx;
    this.id = id;
  }

  private JobRecord record() {
    return ctx.ownership.store().find(id).orElseThrow(() -> new IllegalStateException("job " + id + " vanished from the store"));
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public JobSpec spec() {
    return record().spec();
  }

  @Override
  public JobState state() {
    return record().state();
  }

  @Override
  public List<Attempt> attempts() {
    return record().attempts();
  }

  @Override
  public Money cost() {
    return record().cost();
  }

  @Override
  public synchronized CompletableFuture<JobResult> result() {
    if (result == null) {
      result = new CompletableFuture<>();
      watch();
    }
    return result;
  }

  private void watch() {
    JobRecord r = record();
    if (r.state().isTerminal()) {
      result.complete(new JobResult(r.id(), r.state(), r.attempts(), r.cost(), r.message(), r.exitCode(), r.resultAttributes()));
    } else if (!ctx.closed.get()) {
      ctx.schedule(this::watch, ctx.cfg.pollMax());
    }
  }

  @Override
  public boolean cancel() {
    JobRun live = ctx.jobs.get(id);
    if (live != null) {
      return live.cancel();
    }
    return ctx.ownership.requestCancel(id);
  }
}
