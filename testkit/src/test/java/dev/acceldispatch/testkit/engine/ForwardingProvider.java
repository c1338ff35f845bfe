package dev.acceldispatch.testkit.engine;

import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.FakeProvider;
import java.util.List;

/** Forwards every call to a fake provider; tests override the calls they misbehave in. */
class ForwardingProvider implements Provider {
  final FakeProvider fake;

  ForwardingProvider(FakeProvider fake) {
    this.fake = fake;
  }

  @Override
  public String id() {
    return fake.id();
  }

  @Override
  public List<Offer> offers() {
    return fake.offers();
  }

  @Override
  public ProviderLimits limits() {
    return fake.limits();
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest request) {
    return fake.provision(request);
  }

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    return fake.status(resource);
  }

  @Override
  public void release(ProvisionedResource resource) {
    fake.release(resource);
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    return fake.listOwned(fleetId);
  }
}
