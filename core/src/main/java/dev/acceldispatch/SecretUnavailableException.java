package dev.acceldispatch;

/**
 * A secret's value cannot be had: a reference that cannot be resolved (a variable that is not set,
 * a missing file, a cloud-store reference where only the machine can read it), or a stored value
 * that cannot be read back (encrypted with a key the store was not given). The message names the
 * reference or the key, never a value.
 */
public final class SecretUnavailableException extends DispatchException {
  private static final long serialVersionUID = 1L;

  /** With a message naming the reference or the key, never a value. */
  public SecretUnavailableException(String message) {
    super(message);
  }
}
