package dev.acceldispatch.testkit;

import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.event.DispatchListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link DispatchListener} that keeps every event, for tests to assert on. Thread-safe. */
public final class RecordingListener implements DispatchListener {
  private final List<DispatchEvent> events = new CopyOnWriteArrayList<>();

  @Override
  public void onEvent(DispatchEvent event) {
    events.add(event);
  }

  /** Every event so far, in order. */
  public List<DispatchEvent> events() {
    return List.copyOf(events);
  }

  /** The events of one type, in order. */
  public <T extends DispatchEvent> List<T> events(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The events of one job, in order. */
  public List<DispatchEvent> eventsOf(String jobId) {
    return events.stream().filter(e -> jobId.equals(e.jobId())).toList();
  }
}
