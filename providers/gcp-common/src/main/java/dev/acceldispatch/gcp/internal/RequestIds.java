package dev.acceldispatch.gcp.internal;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Request ids for Google's idempotent mutations ({@code requestId} on Compute Engine inserts,
 * {@code request_id} on Cloud TPU creates): a UUID the server uses to answer a repeat with the
 * original operation.
 */
public final class RequestIds {
  private RequestIds() {}

  /**
   * The same UUID every time for one create of one name in one zone of one project, so a retry after
   * a lost response is recognised instead of creating a second machine. Never the zero UUID (which
   * Compute Engine refuses): a name-based UUID has its version bits set.
   */
  public static String stable(String verb, String project, String zone, String name) {
    String key = "accel-dispatch/" + verb + "/" + project + "/" + zone + "/" + name;
    return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
  }

  /**
   * A fresh random UUID, for deletes: they are idempotent by themselves, and a reused id could answer
   * a later delete of a new resource of the same name with an old operation.
   */
  public static String fresh() {
    return UUID.randomUUID().toString();
  }
}
