package dev.acceldispatch.event;

/**
 * Receives every {@link DispatchEvent}. Called on the dispatcher's own thread, in order: it must
 * be fast and must not block. A listener that throws is logged and otherwise ignored; it can never
 * break dispatch.
 */
@FunctionalInterface
public interface DispatchListener {
  /** Ignores everything. */
  DispatchListener NONE = event -> {};

  /** Called for each event. */
  void onEvent(DispatchEvent event);
}
