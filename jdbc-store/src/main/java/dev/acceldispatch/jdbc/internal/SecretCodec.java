package dev.acceldispatch.jdbc.internal;

import dev.acceldispatch.SecretUnavailableException;
import java.util.Collection;

/**
 * How the store keeps literal secret values: sealed with the host's current key, or (an explicit
 * opt-in) in clear. The job id and the variable name are bound to every sealed value, so a value
 * cannot be moved to another job or variable. Not API.
 */
public interface SecretCodec {
  /** Whether values can be sealed (the host supplied a key ring). */
  boolean canSeal();

  /** Whether the host opted in to keeping values in clear when it supplied no key. */
  boolean clearAllowed();

  /** The id of the key {@link #seal} uses. */
  String currentKeyId();

  /** Seals {@code value} of variable {@code name} of job {@code jobId}; base64 of nonce and ciphertext. */
  String seal(String jobId, String name, String value);

  /**
   * Opens what {@link #seal} returned under {@code keyId}.
   *
   * @throws SecretUnavailableException naming the job, the variable and the key, never a value
   */
  String open(String jobId, String name, String keyId, String data);

  /** The refusal when a job has literal values and neither a key nor the opt-in was given. */
  RuntimeException refusal(String jobId, Collection<String> names);
}
