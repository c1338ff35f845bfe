package dev.acceldispatch;

/** The dispatcher was closed; it accepts no more work. */
public final class DispatcherClosedException extends DispatchException {
  private static final long serialVersionUID = 1L;

  /** Creates it. */
  public DispatcherClosedException() {
    super("the dispatcher is closed");
  }
}
