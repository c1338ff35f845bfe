package dev.acceldispatch.spi;

import dev.acceldispatch.DispatchException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A provider call failed, in one of a fixed set of ways, each of which tells the engine what to do
 * next. Providers map their cloud's error codes and messages to these and keep the cloud's own
 * code and message ({@link #cloudCode()}, {@link #cloudMessage()}).
 *
 * <ul>
 *   <li>{@link CapacityUnavailable}: the zone has none of this shape now; block it a while, fail
 *       over at once.
 *   <li>{@link QuotaExceeded}: a quota forbids it; block its scope a while, fail over at once.
 *   <li>{@link Throttled}: the API is rate limiting us; wait (at least retry-after) and retry.
 *   <li>{@link Transient}: 5xx, timeout, unavailable, or anything unknown; retry a bounded number
 *       of times, then fail over.
 *   <li>{@link InvalidRequest}: it can never succeed as asked; do not retry.
 *   <li>{@link PermissionDenied}: credentials or permissions are wrong; do not retry, stop using
 *       the provider a while.
 * </ul>
 */
public abstract sealed class ProviderException extends DispatchException
    permits ProviderException.CapacityUnavailable,
        ProviderException.QuotaExceeded,
        ProviderException.Throttled,
        ProviderException.Transient,
        ProviderException.InvalidRequest,
        ProviderException.PermissionDenied {
  private static final long serialVersionUID = 1L;

  /** The provider that threw. */
  private final String providerId;
  /** The zone (or region) concerned, or {@code null}. */
  private final String zone;
  /** The cloud's own error code. */
  private final String cloudCode;
  /** The cloud's own error message. */
  private final String cloudMessage;

  ProviderException(String providerId, String zone, String cloudCode, String cloudMessage, Throwable cause) {
    super(describe(providerId, zone, cloudCode, cloudMessage), cause);
    this.providerId = Objects.requireNonNull(providerId, "providerId");
    this.zone = zone;
    this.cloudCode = cloudCode == null ? "" : cloudCode;
    this.cloudMessage = cloudMessage == null ? "" : cloudMessage;
  }

  private static String describe(String providerId, String zone, String code, String message) {
    return providerId + (zone == null ? "" : " " + zone) + ": " + (code == null ? "" : code)
        + (message == null || message.isEmpty() ? "" : " - " + message);
  }

  /** The provider that failed. */
  public String providerId() {
    return providerId;
  }

  /** The zone (or region) the call was about, if one. */
  public Optional<String> zone() {
    return Optional.ofNullable(zone);
  }

  /** The cloud's own error code, for example {@code ZONE_RESOURCE_POOL_EXHAUSTED}; may be empty. */
  public String cloudCode() {
    return cloudCode;
  }

  /** The cloud's own error message; may be empty. */
  public String cloudMessage() {
    return cloudMessage;
  }

  /** A short name of the kind, for events and reports: {@code capacity}, {@code quota}, … */
  public abstract String kind();

  /** The zone has no capacity for the shape right now (a stockout). */
  public static final class CapacityUnavailable extends ProviderException {
    private static final long serialVersionUID = 1L;

    /** With the cloud's code and message. */
    public CapacityUnavailable(String providerId, String zone, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
    }

    @Override
    public String kind() {
      return "capacity";
    }
  }

  /** A quota forbids the request. */
  public static final class QuotaExceeded extends ProviderException {
    private static final long serialVersionUID = 1L;

    /** How far the quota reaches: what the engine blocks. */
    public enum Scope {
      /** This zone only. */
      ZONE,
      /** Every zone of the region. */
      REGION,
      /** Every region of the provider (for example GCE's {@code GPUS_ALL_REGIONS}). */
      PROVIDER
    }

    /** How far the quota reaches. */
    private final Scope scope;

    /** With the quota's reach and the cloud's code and message. */
    public QuotaExceeded(String providerId, String zone, Scope scope, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
      this.scope = Objects.requireNonNull(scope, "scope");
    }

    /** How far the quota reaches. */
    public Scope scope() {
      return scope;
    }

    @Override
    public String kind() {
      return "quota";
    }
  }

  /**
   * The cloud's API is rate limiting us. Clouds throttle per project or subscription, not per
   * call, so a retry-after pauses <em>every</em> call of the provider that threw it (creates,
   * polls, releases, listings) until it has passed; the throttled call itself is retried then.
   * Without a retry-after, only the throttled call backs off (exponentially, with jitter). A
   * provider whose clouds throttle per region should be wired as one provider per region.
   */
  public static final class Throttled extends ProviderException {
    private static final long serialVersionUID = 1L;
    /** How long the cloud asked us to wait, or {@code null}. */
    private final Duration retryAfter;

    /**
     * With the cloud's retry-after, or {@code null} when it gave none.
     */
    public Throttled(String providerId, String zone, Duration retryAfter, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
      this.retryAfter = retryAfter;
    }

    /** How long the cloud asked us to wait, if it said. */
    public Optional<Duration> retryAfter() {
      return Optional.ofNullable(retryAfter);
    }

    @Override
    public String kind() {
      return "throttled";
    }
  }

  /** A failure that may pass: 5xx, timeouts, unavailable, or an error nobody recognised. */
  public static final class Transient extends ProviderException {
    private static final long serialVersionUID = 1L;

    /** With the cloud's code and message. */
    public Transient(String providerId, String zone, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
    }

    @Override
    public String kind() {
      return "transient";
    }
  }

  /** The request can never succeed as asked (bad machine type, bad image, bad argument). */
  public static final class InvalidRequest extends ProviderException {
    private static final long serialVersionUID = 1L;

    /** With the cloud's code and message. */
    public InvalidRequest(String providerId, String zone, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
    }

    @Override
    public String kind() {
      return "invalid";
    }
  }

  /**
   * Credentials are missing or wrong, or the identity lacks a permission. On a create, the
   * engine sets the whole provider aside for the dispatcher's {@code quotaBlock} (30 min by
   * default) and places jobs elsewhere meanwhile; the host fixes the credentials.
   */
  public static final class PermissionDenied extends ProviderException {
    private static final long serialVersionUID = 1L;
    /** Whether the credentials were missing or wrong (rather than lacking a permission). */
    private final boolean unauthenticated;

    /**
     * @param unauthenticated true when no valid credentials were presented at all, false when they
     *     were but lack a permission
     */
    public PermissionDenied(String providerId, String zone, boolean unauthenticated, String cloudCode, String cloudMessage, Throwable cause) {
      super(providerId, zone, cloudCode, cloudMessage, cause);
      this.unauthenticated = unauthenticated;
    }

    /** Whether no valid credentials were presented (rather than a missing permission). */
    public boolean unauthenticated() {
      return unauthenticated;
    }

    @Override
    public String kind() {
      return unauthenticated ? "unauthenticated" : "permission";
    }
  }
}
