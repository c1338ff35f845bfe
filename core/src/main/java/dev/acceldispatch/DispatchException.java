package dev.acceldispatch;

/**
 * The one base of every exception this library throws on purpose (argument errors aside, which
 * are {@link IllegalArgumentException} and {@link NullPointerException} naming the field). It is
 * unchecked; subclasses carry the context needed to act on them.
 */
public class DispatchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With a message. */
  public DispatchException(String message) {
    super(message);
  }

  /** With a message and a cause. */
  public DispatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
