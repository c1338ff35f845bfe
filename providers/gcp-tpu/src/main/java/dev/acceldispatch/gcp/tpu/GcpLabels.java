package dev.acceldispatch.gcp.tpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one function that makes labels fit Google Cloud's rules: at most 64 labels; keys 1-63
 * characters of lowercase letters, digits, {@code _} and {@code -}, starting with a letter; values
 * 0-63 such characters. Anything else becomes {@code -}; upper case becomes lower case.
 */
final class GcpLabels {
  static final int MAX_LABELS = 64;
  static final int MAX_LENGTH = 63;

  private GcpLabels() {}

  /**
   * The labels to put on a resource: {@code ownership} (fleet, job, attempt) always, then as many
   * of {@code extra} as fit, in key order. Ownership keys win over extra labels of the same key.
   */
  static Map<String, String> sanitize(Map<String, String> ownership, Map<String, String> extra) {
    Map<String, String> out = new LinkedHashMap<>();
    ownership.forEach((k, v) -> out.put(key(k), value(v)));
    for (Map.Entry<String, String> e : new TreeMap<>(extra).entrySet()) {
      if (out.size() >= MAX_LABELS) {
        break;
      }
      String k = key(e.getKey());
      if (k != null && !out.containsKey(k)) {
        out.put(k, value(e.getValue()));
      }
    }
    return out;
  }

  /** A valid label key for {@code raw}, or null when nothing of it survives. */
  static String key(String raw) {
    String s = clean(raw);
    if (s.isEmpty() || s.chars().allMatch(c -> c == '-')) {
      return null;
    }
    if (!(s.charAt(0) >= 'a' && s.charAt(0) <= 'z')) {
      s = "l-" + s;
    }
    return s.length() > MAX_LENGTH ? s.substring(0, MAX_LENGTH) : s;
  }

  /** A valid label value for {@code raw}. */
  static String value(String raw) {
    String s = clean(raw == null ? "" : raw);
    return s.length() > MAX_LENGTH ? s.substring(0, MAX_LENGTH) : s;
  }

  private static String clean(String raw) {
    String lower = raw.toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(Math.min(lower.length(), MAX_LENGTH + 2));
    for (int i = 0; i < lower.length() && b.length() <= MAX_LENGTH; i++) {
      char c = lower.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      b.append(ok ? c : '-');
    }
    return b.toString();
  }
}
