package dev.acceldispatch.spi;

import dev.acceldispatch.Offer;
import java.util.List;

/**
 * A place that can run jobs: one cloud API (or the local machine), wired by the host with its own
 * clients and credentials and registered with {@code Dispatcher.builder().provider(...)}.
 *
 * <p>The contract is submit-then-poll, because provisioning takes seconds to hours:
 * {@link #provision} returns once the cloud has accepted the request, and the engine polls
 * {@link #status} until the workload ends, then calls {@link #release}. Every method may be called
 * from several threads at once and may block on network I/O; the engine calls them off its own
 * thread, through its own rate limiter, timeout, retry and circuit breaker.
 *
 * <p>Every method reports failures by throwing a {@link ProviderException} subtype that tells the
 * engine what to do next (fail over, wait, retry, give up). Anything else thrown is treated as
 * {@link ProviderException.Transient}. A provider must never report success for a call it does not
 * know succeeded.
 *
 * <p>Implementations pass the abstract {@code ProviderContractTest} of the testkit against their
 * emulator.
 */
public interface Provider {

  /** A short stable id, for example {@code gcp-tpu}; used in offers, stores and logs. */
  String id();

  /** What this provider can supply, with prices. Should be cheap: the engine calls it at build. */
  List<Offer> offers();

  /**
   * Starts creating the resource for one attempt, under {@code request.resourceName()}.
   *
   * <p>Idempotent: when a resource of that name already exists (a retry after a lost response,
   * or a restart after a crash), it is adopted and returned; a second one is never created.
   * Returns once the cloud has accepted the request; the resource may still be pending.
   *
   * @throws ProviderException.CapacityUnavailable when the zone has no capacity for the shape
   * @throws ProviderException.QuotaExceeded when a quota forbids it
   * @throws ProviderException.InvalidRequest when the request can never succeed here
   */
  ProvisionedResource provision(ProvisionRequest request);

  /**
   * The current state of a resource this provider created. A resource that no longer exists is
   * {@link ResourceStatus.Phase#GONE}, not an exception.
   *
   * <p>When the cloud gives up on a resource that never ran for lack of capacity or quota (a TPU
   * queued resource that fails, say), this throws {@link ProviderException.CapacityUnavailable} or
   * {@link ProviderException.QuotaExceeded}, exactly as {@link #provision} would have, and the
   * engine fails over.
   */
  ResourceStatus status(ProvisionedResource resource);

  /**
   * Deletes the resource and everything created with it. Idempotent: deleting what is already
   * gone succeeds. Returns once the cloud has accepted the deletion.
   */
  void release(ProvisionedResource resource);

  /**
   * Every resource this provider finds labelled with {@code fleetId}, for the orphan reconciler.
   */
  List<ProvisionedResource> listOwned(String fleetId);

  /**
   * The call rates and timeouts the engine should use with this provider's API, shaped to the
   * cloud's published limits. The host may override them per provider.
   */
  default ProviderLimits limits() {
    return ProviderLimits.DEFAULT;
  }
}
