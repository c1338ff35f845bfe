package dev.acceldispatch;

import java.util.Objects;

/**
 * A secret value, such as an API token the workload needs in its environment. Its
 * {@link #toString()} never shows the value, so it cannot reach a log line by accident; only
 * {@link #reveal()} does, and only providers call it, at the moment they hand it to the cloud's
 * secret mechanism.
 */
public final class Secret {
  private final String value;

  private Secret(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  /** Wraps a secret value. */
  public static Secret of(String value) {
    return new Secret(value);
  }

  /** The value itself. Never log it. */
  public String reveal() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret s && s.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  /** Always {@code ****}. */
  @Override
  public String toString() {
    return "****";
  }
}
