package dev.acceldispatch;

/**
 * {@code submit} was refused because the dispatcher already holds as many unfinished jobs as it
 * was built to ({@code Dispatcher.Builder.maxQueuedJobs}). Back off and submit again later.
 */
public final class QueueFullException extends DispatchException {
  private static final long serialVersionUID = 1L;
  /** The most unfinished jobs the dispatcher holds. */
  private final int limit;

  /** With the limit that was reached. */
  public QueueFullException(int limit) {
    super("the dispatch queue is full (" + limit + " unfinished jobs); submit again later or raise maxQueuedJobs");
    this.limit = limit;
  }

  /** The limit that was reached. */
  public int limit() {
    return limit;
  }
}
