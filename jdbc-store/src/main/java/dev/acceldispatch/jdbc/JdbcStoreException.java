package dev.acceldispatch.jdbc;

import dev.acceldispatch.DispatchException;

/**
 * The job store's database cannot be used as it is: a row that cannot be read back, a schema newer
 * than this library knows, or a database error. The message names the table, the row or the
 * version; it never holds a secret value.
 */
public final class JdbcStoreException extends DispatchException {
  private static final long serialVersionUID = 1L;

  /** With a message naming what is wrong. */
  public JdbcStoreException(String message) {
    super(message);
  }

  /** With a message naming what is wrong, and the database's own exception. */
  public JdbcStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
