package dev.acceldispatch.bench.jmh;

import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A zero-latency in-process provider: every create succeeds at once (unless {@code refuse}
 * says the zone is out of capacity), every resource has already exited 0 when first polled. What
 * the JMH benchmarks put under the engine so that they measure the engine only. Thread-safe.
 */
final class InstantProvider implements Provider {
  private final List<Offer> offers;
  private final Predicate<Offer> refuse;
  private final Map<String, Boolean> live = new ConcurrentHashMap<>();
  final AtomicLong provisions = new AtomicLong();
  /** nanoTime of the last capacity error, for the failover benchmark. */
  volatile long lastRefusalNanos;
  /** Called on every provision with the nanos since the last refusal (0 when none came before). */
  volatile java.util.function.LongConsumer afterRefusal = n -> { };

  InstantProvider(List<Offer> offers, Predicate<Offer> refuse) {
    this.offers = List.copyOf(offers);
    this.refuse = refuse;
  }

  /** {@code zones} offers of one shape, prices rising by zone so that ranking matters. */
  static List<Offer> offers(int zones, AcceleratorShape shape) {
    List<Offer> out = new ArrayList<>();
    for (int i = 0; i < zones; i++) {
      String region = "r" + (i / 4);
      out.add(Offer.of("instant", region, region + "-z" + (i % 4), shape, "m" + shape.count(),
          Money.usd(10 + i * 0.01), Money.usd(3 + i * 0.005)));
    }
    return out;
  }

  @Override
  public String id() {
    return "instant";
  }

  @Override
  public List<Offer> offers() {
    return offers;
  }

  @Override
  public ProviderLimits limits() {
    return ProviderLimits.IN_PROCESS;
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest r) {
    long now = System.nanoTime();
    long last = lastRefusalNanos;
    if (last != 0) {
      lastRefusalNanos = 0;
      afterRefusal.accept(now - last);
    }
    provisions.incrementAndGet();
    if (refuse.test(r.offer())) {
      lastRefusalNanos = System.nanoTime();
      throw new ProviderException.CapacityUnavailable("instant", r.offer().zone(), "STOCKOUT", "no capacity", null);
    }
    live.put(r.resourceName(), Boolean.TRUE);
    return ProvisionedResource.of("instant", r.resourceName(), r.offer().zone());
  }

  @Override
  public ResourceStatus status(ProvisionedResource res) {
    return live.containsKey(res.name()) ? ResourceStatus.exited(0, "done") : ResourceStatus.gone("not found");
  }

  @Override
  public void release(ProvisionedResource res) {
    live.remove(res.name());
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    List<ProvisionedResource> out = new ArrayList<>();
    for (String name : live.keySet()) {
      out.add(ProvisionedResource.of("instant", name, "z"));
    }
    return out;
  }
}
