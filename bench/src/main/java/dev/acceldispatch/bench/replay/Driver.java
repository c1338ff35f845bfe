package dev.acceldispatch.bench.replay;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.spi.PlacementPolicy;
import dev.acceldispatch.testkit.ManualScheduler;
import java.util.ArrayList;
import java.util.List;

/**
 * How a policy hands trace jobs to the engine during one replay. The plain driver submits each
 * job as it arrives; a baseline whose system decides things the engine does not (SkyPilot's
 * per-launch blocklist and backoff, the oracle's foresight) does so here, around the same engine,
 * rather than in it. One instance per replay: it may hold state.
 */
class Driver {
  /** What a driver may use. */
  record Context(Policy policy, ModelParameters model, JobMapping mapping, SimulatedClouds clouds, ManualScheduler scheduler,
      long seed) {}

  final Context ctx;
  Dispatcher dispatcher;
  /** Every engine job made for each trace job, in order; the last one is the one that counts. */
  final List<List<JobHandle>> handles = new ArrayList<>();

  Driver(Context ctx) {
    this.ctx = ctx;
  }

  /** The driver for a policy. */
  static Driver of(Context ctx) {
    return switch (ctx.policy().driver()) {
      case PLAIN -> new Driver(ctx);
      case SKYPILOT -> new SkyPilotDriver(ctx);
      case CLAIRVOYANT -> new ClairvoyantDriver(ctx);
    };
  }

  /** The placement policy the engine is built with. */
  PlacementPolicy placement() {
    return ctx.policy().placement();
  }

  /** Called once the dispatcher is built, before the first job. */
  void start(Dispatcher d) {
    this.dispatcher = d;
  }

  /** Trace job number {@code index} arrives now. */
  void submit(int index, TraceJob job) {
    handles.add(new ArrayList<>(List.of(dispatcher.submit(spec(job)))));
  }

  /** The spec of a trace job under this policy. */
  JobSpec spec(TraceJob job) {
    return ctx.policy().apply(ctx.mapping().spec(job), job, ctx.model());
  }

  /** Whether the trace job has ended for good (its last engine job ended and none is due). */
  boolean finished(int index) {
    List<JobHandle> hs = handles.get(index);
    return hs.get(hs.size() - 1).state().isTerminal();
  }

  /** Trace jobs waiting outside the engine (the driver holds them). */
  int held() {
    return 0;
  }

  /** Every engine event, as it happens. Fast, never throws. */
  void onEvent(DispatchEvent e) {}
}
