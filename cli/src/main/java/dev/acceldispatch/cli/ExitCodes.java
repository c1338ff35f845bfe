package dev.acceldispatch.cli;

/**
 * The exit codes of {@code accel-dispatch}. A failed job exits with its workload's own exit code
 * when it has one (1 to 255), so the codes below are chosen from the BSD {@code sysexits.h}
 * range and the shell's "killed by SIGINT" code, which workloads rarely use.
 */
final class ExitCodes {
  /** The job succeeded, or the command did what was asked. */
  static final int OK = 0;
  /** Invalid input: an unknown option, a bad job file or configuration ({@code EX_USAGE}). */
  static final int INVALID_INPUT = 64;
  /** No job with that id ({@code EX_NOINPUT}). */
  static final int NOT_FOUND = 66;
  /** The job failed without a workload exit code: no offer, a timeout, a budget ({@code EX_UNAVAILABLE}). */
  static final int FAILED_WITHOUT_EXIT_CODE = 69;
  /** A bug or an unexpected error in the tool itself ({@code EX_SOFTWARE}). */
  static final int INTERNAL_ERROR = 70;
  /** The store or a provider could not be reached ({@code EX_TEMPFAIL}): try again. */
  static final int UNAVAILABLE = 75;
  /** The job was cancelled (like a shell's 128 + SIGINT). */
  static final int CANCELLED = 130;

  private ExitCodes() {}
}
