package dev.acceldispatch.internal;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one place that knows how job ids and resource names are made and read back. A resource
 * name is {@code ad-<jobId>-a<attempt>}: deterministic, so that a create retried after a crash or
 * a lost response adopts what exists instead of making a second machine, and parseable, so that
 * the reconciler can find the attempt that owns a listed resource without scanning every job.
 */
final class ResourceNames {
  private static final String PREFIX = "ad-";
  private static final String ATTEMPT = "-a";
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  /** The job and attempt a resource name was made for. */
  record Owner(String jobId, int attempt) {}

  private ResourceNames() {}

  /** The resource name of attempt {@code attempt} of job {@code jobId}. */
  static String of(String jobId, int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
    return PREFIX + jobId + ATTEMPT + attempt;
  }

  /** The job and attempt {@code name} was made for; empty for a name this engine did not make. */
  static Optional<Owner> parse(String name) {
    if (name == null || !name.startsWith(PREFIX)) {
      return Optional.empty();
    }
    int dash = name.lastIndexOf(ATTEMPT);
    if (dash <= PREFIX.length()) {
      return Optional.empty();
    }
    int attempt;
    try {
      attempt = Integer.parseInt(name.substring(dash + ATTEMPT.length()));
    } catch (NumberFormatException notOurs) {
      return Optional.empty();
    }
    if (attempt < 1) {
      return Optional.empty();
    }
    return Optional.of(new Owner(name.substring(PREFIX.length(), dash), attempt));
  }

  /** A fresh random job id: {@code j} and 12 lower-case letters or digits (62 bits). */
  static String newJobId() {
    StringBuilder sb = new StringBuilder("j");
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < 12; i++) {
      sb.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }
}
