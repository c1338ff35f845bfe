package dev.acceldispatch.internal;

import dev.acceldispatch.Dispatcher;

/** The dispatch engine (being written). */
public final class DispatchEngine {
  private DispatchEngine() {}

  /** Starts an engine. */
  public static Dispatcher start(EngineConfig config) {
    throw new UnsupportedOperationException("engine not written yet");
  }
}
