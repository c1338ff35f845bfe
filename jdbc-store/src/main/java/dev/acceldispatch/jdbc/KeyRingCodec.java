package dev.acceldispatch.jdbc;

import dev.acceldispatch.SecretUnavailableException;
import dev.acceldispatch.jdbc.internal.SecretCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collection;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM with the host's {@link SecretKeyRing}: a random 96-bit nonce per value, a 128-bit
 * tag, and the job id and variable name as associated data, so that a sealed value copied into
 * another job's row, or onto another variable, does not open.
 */
final class KeyRingCodec implements SecretCodec {
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeyRing ring;
  private final boolean clearAllowed;

  /** {@code ring} may be null: then values are refused, or kept in clear when {@code clearAllowed}. */
  KeyRingCodec(SecretKeyRing ring, boolean clearAllowed) {
    this.ring = ring;
    this.clearAllowed = clearAllowed;
  }

  @Override
  public boolean canSeal() {
    return ring != null;
  }

  @Override
  public boolean clearAllowed() {
    return clearAllowed;
  }

  @Override
  public String currentKeyId() {
    if (ring == null) {
      throw new IllegalStateException("no key ring");
    }
    return ring.currentKeyId();
  }

  @Override
  public String seal(String jobId, String name, String value) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance(TRANSFORMATION);
      c.init(Cipher.ENCRYPT_MODE, ring.key(ring.currentKeyId()), new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(associatedData(jobId, name));
      byte[] sealed = c.doFinal(value.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array());
    } catch (GeneralSecurityException e) {
      // AES-GCM is in every Java 17 runtime; this is a broken JDK, and the message holds no value.
      throw new IllegalStateException("cannot encrypt with AES-GCM: " + e, e);
    }
  }

  @Override
  public String open(String jobId, String name, String keyId, String data) {
    String what = "workload.secretEnv[" + name + "] of job " + jobId;
    if (ring == null) {
      throw new SecretUnavailableException(what + " is encrypted with key '" + keyId + "', and this store was built"
          + " without secretKeys(...): restart with the key ring that holds '" + keyId + "'");
    }
    SecretKey key = ring.key(keyId);
    if (key == null) {
      throw new SecretUnavailableException(what + " is encrypted with key '" + keyId + "', which is not in this store's"
          + " key ring " + ring.keyIds() + ": restart with the key ring that holds '" + keyId + "'");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(data);
    } catch (IllegalArgumentException e) {
      throw new SecretUnavailableException(what + ": the stored ciphertext is not base64; the row was altered");
    }
    if (raw.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new SecretUnavailableException(what + ": the stored ciphertext is too short; the row was altered");
    }
    try {
      Cipher c = Cipher.getInstance(TRANSFORMATION);
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, NONCE_BYTES));
      c.updateAAD(associatedData(jobId, name));
      return new String(c.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new SecretUnavailableException(what + " does not decrypt with key '" + keyId + "': the key given under that"
          + " id is not the one that encrypted it, or the value was altered or moved from another job");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot decrypt with AES-GCM: " + e.getClass().getSimpleName(), e);
    }
  }

  @Override
  public RuntimeException refusal(String jobId, Collection<String> names) {
    return new JdbcStoreException("job " + jobId + ": workload.secretEnv " + names + " holds literal secret values, and this"
        + " durable store keeps them only encrypted, but it was built without a key. Give it one with"
        + " JdbcJobStore.builder(dataSource).secretKeys(SecretKeyRing.of(keyId, key)), or give the secrets as references"
        + " (Secret.fromDispatcherEnv, Secret.fromDispatcherFile, Secret.googleSecretManager, Secret.azureKeyVault),"
        + " or opt in to storing values in clear with storeSecretsInClear()");
  }

  /** Binds a sealed value to its job and variable; the version prefix leaves room for a format change. */
  private static byte[] associatedData(String jobId, String name) {
    return ("acceldispatch-secret-v1\0" + jobId + "\0" + name).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "KeyRingCodec{" + (ring == null ? (clearAllowed ? "clear" : "refuse") : ring) + "}";
  }
}
