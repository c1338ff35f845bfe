package dev.acceldispatch;

import java.util.List;

/**
 * {@code submit} (or {@code plan}) found that no offer of any wired provider can ever satisfy the
 * job. The message, and {@link #reasons()}, say why each kind of offer was ruled out.
 */
public final class NoFeasibleOfferException extends DispatchException {
  private static final long serialVersionUID = 1L;
  /** The job that fits nowhere. */
  private final String jobName;
  /** Why each kind of offer was ruled out, one line each. */
  private final List<String> reasons;

  /** For the job called {@code jobName}, with one line per reason. */
  public NoFeasibleOfferException(String jobName, List<String> reasons) {
    super("no wired offer can ever run job '" + jobName + "': " + String.join("; ", reasons));
    this.jobName = jobName;
    this.reasons = List.copyOf(reasons);
  }

  /** The job's name. */
  public String jobName() {
    return jobName;
  }

  /** Why offers were ruled out, one line each. */
  public List<String> reasons() {
    return reasons;
  }
}
