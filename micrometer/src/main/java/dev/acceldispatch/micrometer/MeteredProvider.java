package dev.acceldispatch.micrometer;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.SecretDelivery;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A provider that times each call of the one it wraps. The engine's events say what a failure led
 * to (a failover), not how long the cloud's API took nor how often it failed on a status poll or a
 * release; only the call itself knows.
 */
final class MeteredProvider implements Provider, SecretDelivery {
  private final Provider delegate;
  private final MeterRegistry registry;
  private final Tags tags;
  private final Clock clock;

  MeteredProvider(Provider delegate, MeterRegistry registry, Tags commonTags, Clock clock) {
    this.delegate = delegate;
    this.registry = registry;
    this.tags = commonTags.and("provider", delegate.id());
    this.clock = clock;
  }

  /** The wrapped provider's answer; every kind when it does not say, as for any such provider. */
  @Override
  public Set<Secret.Kind> deliverableSecretKinds() {
    return delegate instanceof SecretDelivery d ? d.deliverableSecretKinds() : EnumSet.allOf(Secret.Kind.class);
  }

  @Override
  public String id() {
    return delegate.id();
  }

  @Override
  public List<Offer> offers() {
    return timed("offers", delegate::offers);
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest request) {
    return timed("provision", () -> delegate.provision(request));
  }

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    return timed("status", () -> delegate.status(resource));
  }

  @Override
  public void release(ProvisionedResource resource) {
    timed("release", () -> {
      delegate.release(resource);
      return null;
    });
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    return timed("list-owned", () -> delegate.listOwned(fleetId));
  }

  @Override
  public ProviderLimits limits() {
    return delegate.limits();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }

  private <T> T timed(String call, Supplier<T> body) {
    Instant start = clock.instant();
    String error = "none";
    try {
      return body.get();
    } catch (ProviderException e) {
      error = e.kind();
      throw e;
    } catch (RuntimeException | Error e) {
      // The engine treats anything else as transient; the tag says what it really was.
      error = "unexpected";
      throw e;
    } finally {
      Timer.builder(DispatchMetrics.PREFIX + "provider.calls")
          .description("Calls to a provider's cloud API")
          .tags(tags).tags("call", call, "outcome", "none".equals(error) ? "success" : "error", "error", error)
          .register(registry)
          .record(Duration.between(start, clock.instant()));
    }
  }
}
