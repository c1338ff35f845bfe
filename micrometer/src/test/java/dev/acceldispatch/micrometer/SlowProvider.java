package dev.acceldispatch.micrometer;

import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.ManualClock;
import java.time.Duration;
import java.util.List;

/** A provider whose every call takes {@code latency} of virtual time, as a cloud API call would. */
final class SlowProvider implements Provider {
  private final Provider delegate;
  private final ManualClock clock;
  private final Duration latency;

  SlowProvider(Provider delegate, ManualClock clock, Duration latency) {
    this.delegate = delegate;
    this.clock = clock;
    this.latency = latency;
  }

  @Override
  public String id() {
    return delegate.id();
  }

  @Override
  public List<Offer> offers() {
    return delegate.offers();
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest request) {
    clock.advance(latency);
    return delegate.provision(request);
  }

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    clock.advance(latency);
    return delegate.status(resource);
  }

  @Override
  public void release(ProvisionedResource resource) {
    clock.advance(latency);
    delegate.release(resource);
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    return delegate.listOwned(fleetId);
  }

  @Override
  public ProviderLimits limits() {
    return delegate.limits();
  }
}
