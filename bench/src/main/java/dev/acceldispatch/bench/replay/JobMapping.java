package dev.acceldispatch.bench.replay;

import static dev.acceldispatch.AcceleratorType.NVIDIA_A100_40GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_A100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_H100_80GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_H100_NVL_94GB;
import static dev.acceldispatch.AcceleratorType.NVIDIA_L4;
import static dev.acceldispatch.AcceleratorType.NVIDIA_T4;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Offer;
import dev.acceldispatch.ReferenceRunTime;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one mapping from a trace job to a {@link JobSpec}, the same for every policy:
 *
 * <ul>
 *   <li>GPUs per machine {@code c} = the job's GPU count rounded up to 1, 2, 4 or 8 (at most 8; a
 *       larger job is folded onto one 8-GPU machine with the same GPU-seconds of work, since the
 *       engine places one machine per job);
 *   <li>reference run time = the trace duration x gpus / c on {@code nvidia-a100-40gb x c} (one
 *       trace GPU counted as one A100 40GB: the traces do not name their GPU types);
 *   <li>equivalent shapes: A100 40GB x c, A100 80GB x c (c <= 4), H100 x 8 (c = 8), H100 NVL x 1
 *       and L4 x 1 (c = 1), T4 x c (c <= 4), and the smallest TPU v5e slice with at least as many
 *       chips as the job has GPUs (the engine scales the run time by peak TFLOPS);
 *   <li>spot PREFER (on-demand after 2 preemptions, budget 6) for {@code mapping.spotShare} of jobs,
 *       NEVER for the rest; tenants by {@code mapping.tenants}; both chosen by a hash of the job id.
 * </ul>
 */
public final class JobMapping {
  private final double spotShare;
  private final List<String> tenantSlots = new ArrayList<>();

  /** From the model file. */
  public JobMapping(ModelParameters m) {
    this.spotShare = m.number("mapping.spotShare");
    for (Map.Entry<String, Integer> t : m.tenants().entrySet()) {
      for (int i = 0; i < t.getValue(); i++) {
        tenantSlots.add(t.getKey());
      }
    }
  }

  /** GPUs per machine for a job of {@code gpus} GPUs. */
  static int perMachine(int gpus) {
    if (gpus <= 1) {
      return 1;
    }
    if (gpus <= 2) {
      return 2;
    }
    return gpus <= 4 ? 4 : 8;
  }

  /** The reference run time of a trace job. */
  public static ReferenceRunTime reference(TraceJob j) {
    int c = perMachine(j.gpus());
    long ms = Math.max(1, Math.round(j.durationSeconds() * 1000.0 * j.gpus() / c));
    return new ReferenceRunTime(Shapes.gpu(NVIDIA_A100_40GB, c), Duration.ofMillis(ms));
  }

  /** The shapes a job may run on. */
  public static List<AcceleratorShape> shapes(int gpus) {
    int c = perMachine(gpus);
    List<AcceleratorShape> s = new ArrayList<>();
    s.add(Shapes.gpu(NVIDIA_A100_40GB, c));
    if (c <= 4) {
      s.add(Shapes.gpu(NVIDIA_A100_80GB, c));
      s.add(Shapes.gpu(NVIDIA_T4, c));
    }
    if (c == 8) {
      s.add(Shapes.gpu(NVIDIA_H100_80GB, 8));
    }
    if (c == 1) {
      s.add(Shapes.gpu(NVIDIA_H100_NVL_94GB, 1));
      s.add(Shapes.gpu(NVIDIA_L4, 1));
    }
    for (int chips : SimulatedClouds.TPU_SLICES) {
      if (chips >= gpus) {
        s.add(Shapes.tpuV5e(chips));
        break;
      }
    }
    return s;
  }

  /** Whether the job may use spot. */
  public boolean spot(TraceJob j) {
    return bucket(j.id(), 1000) < spotShare * 1000;
  }

  /** The job's tenant. */
  public String tenant(TraceJob j) {
    return tenantSlots.get(bucket(j.id() + "#tenant", tenantSlots.size()));
  }

  /** The spec of a trace job (before a policy adds its own constraints). */
  public JobSpec.Builder spec(TraceJob j) {
    ReferenceRunTime ref = reference(j);
    List<AcceleratorShape> shapes = shapes(j.gpus());
    JobSpec.Builder b = JobSpec.builder("trace-" + j.id())
        .script("run " + j.id())
        .env(SimProvider.ENV_REF_MILLIS, Long.toString(ref.runTime().toMillis()))
        .env(SimProvider.ENV_REF_TFLOPS, Double.toString(ref.shape().totalTflops()))
        .accelerators(shapes.get(0), shapes.subList(1, shapes.size()).toArray(AcceleratorShape[]::new))
        .referenceRunTime(ref.shape(), ref.runTime())
        .tenant(tenant(j));
    if (spot(j)) {
      b.spot(SpotPolicy.PREFER).onDemandAfterPreemptions(2).preemptionBudget(6);
    } else {
      b.spot(SpotPolicy.NEVER);
    }
    return b;
  }

  /**
   * The lower bound of a job's cost: its cheapest feasible (offer, tier) among {@code offers} for
   * its run time on that shape, no waiting, no preemption.
   */
  public double lowerBound(TraceJob j, List<Offer> offers) {
    ReferenceRunTime ref = reference(j);
    boolean spot = spot(j);
    double best = Double.MAX_VALUE;
    for (AcceleratorShape s : shapes(j.gpus())) {
      double hours = ref.scaledTo(s).toMillis() / 3_600_000.0;
      for (Offer o : offers) {
        if (o.shape().equals(s)) {
          double price = o.onDemandHourly().toDouble();
          if (spot && o.spotHourly() != null) {
            price = Math.min(price, o.spotHourly().toDouble());
          }
          best = Math.min(best, price * hours);
        }
      }
    }
    return best == Double.MAX_VALUE ? 0 : best;
  }

  private static int bucket(String s, int n) {
    // FNV-1a: stable across JVMs, unlike String.hashCode's spread on short ids.
    int h = 0x811c9dc5;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x01000193;
    }
    return Math.floorMod(h, n);
  }
}
