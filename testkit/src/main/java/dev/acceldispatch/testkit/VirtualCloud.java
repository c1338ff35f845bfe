package dev.acceldispatch.testkit;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.testkit.cloud.CloudModel;
import dev.acceldispatch.testkit.cloud.SimulatedResource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One test's virtual cloud: a {@link ManualScheduler} (virtual time), a {@link CloudModel} on its
 * clock, a {@link RecordingListener}, and dispatchers wired to them that run provider calls inline.
 * {@link VirtualCloudExtension} hands a fresh one to each test and, after it, closes every
 * dispatcher built here and fails the test if the cloud still holds any resource: a machine the
 * code under test left behind is a bill nobody stops.
 *
 * <p>Run it from the test's thread only, as the {@link ManualScheduler} requires.
 */
public final class VirtualCloud {
  /** How long {@link #closeAndCheckForLeaks} lets closed dispatchers' releases (and their retries) run. */
  static final Duration RELEASE_GRACE = Duration.ofMinutes(10);

  private final ManualScheduler scheduler = new ManualScheduler();
  private final long seed;
  private final CloudModel cloud;
  private final RecordingListener events = new RecordingListener();
  private final List<Dispatcher> dispatchers = new ArrayList<>();

  /** A cloud model with this seed (its random preemptions and faults). */
  public VirtualCloud(long seed) {
    this.seed = seed;
    this.cloud = CloudModel.create(scheduler.manualClock(), seed);
  }

  /** The cloud model's seed. */
  public long seed() {
    return seed;
  }

  /** Virtual time: {@link ManualScheduler#advance} moves it. */
  public ManualScheduler scheduler() {
    return scheduler;
  }

  /** The cloud: capacity, stockouts, quotas, preemptions, faults; and what exists in it. */
  public CloudModel cloud() {
    return cloud;
  }

  /** Every event of every dispatcher built here. */
  public RecordingListener events() {
    return events;
  }

  /** A fake provider on this cloud, to add offers to and build. */
  public FakeProvider.Builder provider(String id) {
    return FakeProvider.builder(id, cloud);
  }

  /** A dispatcher on these providers, in this virtual time, recording into {@link #events()}. */
  public Dispatcher dispatcher(Provider... providers) {
    return dispatcher(b -> { }, providers);
  }

  /**
   * Like {@link #dispatcher(Provider...)}, with more settings ({@code settings} runs after the
   * virtual-time wiring, so it may override it, at its own risk).
   */
  public Dispatcher dispatcher(Consumer<Dispatcher.Builder> settings, Provider... providers) {
    if (providers.length == 0) {
      throw new IllegalArgumentException("providers: give at least one (for example provider(\"fake\").offer(...).build())");
    }
    Dispatcher.Builder b = Dispatcher.builder().scheduler(scheduler).providerExecutor(Runnable::run).listener(events);
    for (Provider p : providers) {
      b.provider(p);
    }
    settings.accept(b);
    Dispatcher d = b.build();
    dispatchers.add(d);
    return d;
  }

  /** Moves virtual time forward by {@code d}, running what falls due. */
  public void advance(Duration d) {
    scheduler.advance(d);
  }

  /**
   * Closes every dispatcher built here (which, with the in-memory store, cancels their unfinished
   * jobs and releases their machines), lets {@link #RELEASE_GRACE} of virtual time pass, then
   * checks that the cloud holds nothing.
   *
   * @throws AssertionError naming every resource still there
   */
  public void closeAndCheckForLeaks() {
    for (Dispatcher d : dispatchers) {
      d.close();
    }
    dispatchers.clear();
    scheduler.advance(RELEASE_GRACE);
    List<SimulatedResource> left = cloud.resources();
    if (!left.isEmpty()) {
      StringBuilder names = new StringBuilder();
      for (SimulatedResource r : left) {
        names.append("\n  ").append(r.name()).append(" in ").append(r.request().zone()).append(" (").append(r.phase()).append(')');
      }
      throw new AssertionError(left.size() + " resource(s) left in the virtual cloud after every dispatcher closed "
          + "and " + RELEASE_GRACE.toMinutes() + " virtual minutes passed:" + names);
    }
  }
}
