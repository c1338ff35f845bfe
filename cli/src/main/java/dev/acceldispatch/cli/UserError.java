package dev.acceldispatch.cli;

/**
 * A mistake the person running the command can fix (a bad job file, option or configuration, an
 * unknown job id): printed as one message, never with a stack trace, and mapped to an exit code.
 */
final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  UserError(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  /** Invalid input: exit code {@link ExitCodes#INVALID_INPUT}. */
  static UserError invalid(String message) {
    return new UserError(ExitCodes.INVALID_INPUT, message);
  }

  int exitCode() {
    return exitCode;
  }
}
