package dev.acceldispatch.gcp.internal;

/**
 * The startup script's last line on every Google machine (TPU VM or Compute Engine VM): PUT the
 * workload's exit code ({@code $rc}) into the machine's guest attribute {@value #NAMESPACE}/{@value
 * #KEY} through the metadata server, which needs the {@code Metadata-Flavor: Google} header and
 * {@code enable-guest-attributes=TRUE} in the metadata. The provider reads it back with
 * {@code getGuestAttributes}.
 */
public final class ExitReporter {
  /** The guest attribute namespace. */
  public static final String NAMESPACE = "accel-dispatch";
  /** The guest attribute key holding the exit code. */
  public static final String KEY = "exit-code";
  /** {@code namespace/key}, the guest attribute path. */
  public static final String ATTRIBUTE = NAMESPACE + "/" + KEY;
  /** The metadata server URL the script PUTs to. */
  public static final String URL =
      "http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/" + ATTRIBUTE;

  private ExitReporter() {}

  /**
   * The shell line. Every word is a constant of this class, single-quoted, so nothing from a job
   * reaches it; {@code --retry 5} rides out a metadata server that is briefly busy at shutdown.
   */
  public static String command() {
    return "curl -sS --retry 5 -X PUT --data \"$rc\" -H 'Metadata-Flavor: Google' '" + URL + "'";
  }
}
