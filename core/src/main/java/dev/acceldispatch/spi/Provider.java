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
 * engine what to do next (fail over, wait, retry, give up). A provider must never report success
 * for a call it does not know succeeded.
 *
 * <p><b>What the contract does not allow, and what the engine does then.</b> No method returns
 * {@code null} (an empty list is a list). A {@code null}, or an exception outside the {@link
 * ProviderException} hierarchy, is a broken contract: the engine logs it and treats it as a
 * {@link ProviderException.Transient}, retried a bounded number of times ({@link
 * ProviderLimits#maxRetries()}); after that a create is a failed start (its name is released, the
 * job fails over), and after five such status answers in a row the attempt is given up (a failed
 * start if it never ran, else a lost attempt whose machine is released). It never waits on a
 * broken provider for ever, and never reads a {@code null} as success.
 *
 * <p><b>Abandoned calls.</b> A call still running after {@link ProviderLimits#callTimeout()} is
 * interrupted and counted as a transient failure. A create abandoned this way may still land at
 * the cloud later: the engine releases the attempt's name once (deleting what may exist), starts
 * the job elsewhere only after that release succeeded, and anything that lands afterwards under
 * this fleet's labels is found by the orphan reconciler through {@link #listOwned} and released
 * (within {@code reconcileInterval}). A provider therefore needs no cleanup of its own for late
 * creates, but must label every resource it creates as {@link ProvisionRequest} says.
 *
 * <p><b>How long errors set things aside</b> (see {@link ProviderException}):
 * {@code CapacityUnavailable} blocks the zone and shape ({@code capacityBlock}, doubling while the
 * zone stays out of stock, up to {@code capacityBlockMax}); {@code QuotaExceeded} blocks the scope
 * it names for {@code quotaBlock}; {@code PermissionDenied} sets the whole provider aside for
 * {@code quotaBlock} (30 min by default), since credentials are per provider; a {@code Throttled}
 * retry-after pauses every call of the provider until it has passed.
 *
 * <p><b>Optional capabilities</b> are interfaces a provider implements next to this one, read by
 * the engine once at build: {@link SecretDelivery} declares which kinds of secret its machines can
 * be given, so that a job whose secrets it cannot deliver is refused at {@code submit} rather than
 * failing at launch.
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
   * <p>Throw {@code CapacityUnavailable}, {@code QuotaExceeded}, {@code InvalidRequest} or {@code
   * PermissionDenied} only when the cloud refused the request outright (nothing was created): the
   * engine then fails over at once. Any error that leaves open whether the create took effect
   * (a timeout, a dropped connection, a 5xx) must be {@code Transient}: the engine then releases
   * the name and starts the job nowhere else until that release succeeded, so that two machines
   * never run one job.
   *
   * @return the resource, never {@code null}
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
   *
   * @return the status, never {@code null}
   */
  ResourceStatus status(ProvisionedResource resource);

  /**
   * Deletes the resource and everything created with it. Idempotent: deleting what is already
   * gone succeeds. Returns once the cloud has accepted the deletion. Until it has returned
   * normally the engine counts the machine against its offer's {@link Offer#capacity()}, and a
   * failed release is retried every {@code releaseRetryInterval} until it succeeds.
   */
  void release(ProvisionedResource resource);

  /**
   * Every resource this provider finds labelled with {@code fleetId} ({@link
   * ProvisionRequest#LABEL_FLEET}), for the orphan reconciler: in every region and zone of its
   * offers, whatever their state, including those still being created and those whose deletion
   * is under way but not finished. The engine releases each one no live attempt owns, so a
   * resource left out here is a resource that may leak; one listed that is already gone costs a
   * no-op release.
   *
   * @return the resources, never {@code null} (empty when there are none)
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
