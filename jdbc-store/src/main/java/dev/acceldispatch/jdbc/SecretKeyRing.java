package dev.acceldispatch.jdbc;

import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys a {@link JdbcJobStore} encrypts literal secret values with (AES-256-GCM through the
 * JDK): one current key, which seals every value written, and older keys, which only open values
 * sealed before a rotation. Each key has an id, stored beside every value it sealed, so that the
 * right key is found after a rotation.
 *
 * <pre>{@code
 * SecretKeyRing keys = SecretKeyRing.builder()
 *     .current("2026-06", base64Decode(System.getenv("JOBS_KEY_2026_06")))  // from the host's KMS/vault
 *     .previous("2026-01", base64Decode(System.getenv("JOBS_KEY_2026_01")))
 *     .build();
 * JdbcJobStore store = JdbcJobStore.builder(dataSource).secretKeys(keys).build();
 * store.reencryptSecrets();   // after a rotation: re-seals every value with the current key
 * }</pre>
 *
 * <p>The library never reads or makes keys on its own: the host supplies them (from its key
 * management service, a vault, a mounted secret). {@link #newKey()} draws a fresh random key for
 * the host to keep. Immutable; {@link #toString()} shows key ids only, never key bytes.
 */
public final class SecretKeyRing {
  /** The length of every key, in bytes (AES-256). */
  public static final int KEY_BYTES = 32;

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String currentKeyId;
  private final Map<String, SecretKey> keys;

  private SecretKeyRing(Builder b) {
    this.currentKeyId = b.currentKeyId;
    Map<String, SecretKey> ordered = new LinkedHashMap<>();
    ordered.put(currentKeyId, b.keys.get(currentKeyId));
    ordered.putAll(b.keys);
    this.keys = Collections.unmodifiableMap(ordered);
  }

  /** A ring of one key, the current one. */
  public static SecretKeyRing of(String keyId, byte[] key) {
    return builder().current(keyId, key).build();
  }

  /** A builder; {@link Builder#build()} needs a current key. */
  public static Builder builder() {
    return new Builder();
  }

  /** A fresh random {@value #KEY_BYTES}-byte key from {@link SecureRandom}, for the host to keep. */
  public static byte[] newKey() {
    byte[] k = new byte[KEY_BYTES];
    RANDOM.nextBytes(k);
    return k;
  }

  /** The id of the key new values are sealed with. */
  public String currentKeyId() {
    return currentKeyId;
  }

  /** Every key id, the current one first. */
  public Set<String> keyIds() {
    return keys.keySet();
  }

  /** The key with this id, or null. */
  SecretKey key(String keyId) {
    return keys.get(keyId);
  }

  /** Key ids only. */
  @Override
  public String toString() {
    return "SecretKeyRing{current=" + currentKeyId + ", keys=" + keys.keySet() + "}";
  }

  /** Builds a {@link SecretKeyRing}; key bytes are copied. */
  public static final class Builder {
    private String currentKeyId;
    private final Map<String, SecretKey> keys = new LinkedHashMap<>();

    private Builder() {}

    /**
     * The key that seals new values.
     *
     * @param keyId 1 to 64 of {@code [A-Za-z0-9._-]}, stored beside each value (not secret)
     * @param key {@value #KEY_BYTES} bytes
     */
    public Builder current(String keyId, byte[] key) {
      if (currentKeyId != null) {
        throw new IllegalStateException("secretKeys: the current key is already '" + currentKeyId
            + "'; add older keys with previous(...)");
      }
      put(keyId, key);
      currentKeyId = keyId;
      return this;
    }

    /** An older key, which only opens values sealed before a rotation. */
    public Builder previous(String keyId, byte[] key) {
      put(keyId, key);
      return this;
    }

    private void put(String keyId, byte[] key) {
      Objects.requireNonNull(keyId, "keyId");
      Objects.requireNonNull(key, "key of " + keyId);
      if (!KEY_ID.matcher(keyId).matches()) {
        throw new IllegalArgumentException("keyId must be 1 to 64 of [A-Za-z0-9._-], got '" + keyId + "'");
      }
      if (key.length != KEY_BYTES) {
        throw new IllegalArgumentException(
            "key '" + keyId + "' must be " + KEY_BYTES + " bytes (AES-256), got " + key.length);
      }
      if (keys.containsKey(keyId)) {
        throw new IllegalArgumentException("keyId '" + keyId + "' is given twice; each key needs its own id");
      }
      // SecretKeySpec keeps its own copy: the host may wipe its array afterwards.
      keys.put(keyId, new SecretKeySpec(key, "AES"));
    }

    /**
     * Builds the ring.
     *
     * @throws IllegalStateException when no current key was given
     */
    public SecretKeyRing build() {
      if (currentKeyId == null) {
        throw new IllegalStateException("secretKeys: give the current key with current(keyId, key)");
      }
      return new SecretKeyRing(this);
    }
  }
}
