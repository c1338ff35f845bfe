package dev.acceldispatch.testkit.cloud;

import java.time.Duration;
import java.util.Objects;

/**
 * A failure an emulator injects into one API call, in its own cloud's words (each emulator maps a
 * kind to its wire format: a gRPC status, an HTTP status with the cloud's error body).
 *
 * @param kind what goes wrong
 * @param retryAfter for {@link Kind#THROTTLED}, the retry-after the cloud announces
 * @param delay for {@link Kind#SLOW}, how long the response is held back
 */
public record Fault(Kind kind, Duration retryAfter, Duration delay) {
  /** What goes wrong. */
  public enum Kind {
    /** Service unavailable: gRPC UNAVAILABLE, HTTP 503. */
    UNAVAILABLE,
    /** Internal error: gRPC INTERNAL, HTTP 500. */
    INTERNAL,
    /** The deadline passed: gRPC DEADLINE_EXCEEDED, HTTP 504. */
    DEADLINE_EXCEEDED,
    /** Rate limited: HTTP 429 / GCE 403 rateLimitExceeded, with retry-after. */
    THROTTLED,
    /** The response is held back for {@link #delay()}, then sent normally. */
    SLOW,
    /**
     * The call takes effect, but its response is lost (the connection is dropped or an error is
     * returned): what a client sees when the network fails after the server acted.
     */
    LOSE_RESPONSE,
    /** Permission denied: gRPC PERMISSION_DENIED, HTTP 403. */
    PERMISSION_DENIED
  }

  /** Validates. */
  public Fault {
    Objects.requireNonNull(kind, "kind");
  }

  /** A fault of this kind. */
  public static Fault of(Kind kind) {
    return new Fault(kind, null, null);
  }

  /** Throttling with this retry-after. */
  public static Fault throttled(Duration retryAfter) {
    return new Fault(Kind.THROTTLED, retryAfter, null);
  }

  /** A response held back for {@code delay}. */
  public static Fault slow(Duration delay) {
    return new Fault(Kind.SLOW, null, delay);
  }
}
