package dev.acceldispatch.gcp.gpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one place where names and labels are made to fit Compute Engine's rules: instance names
 * {@code [a-z]([-a-z0-9]*[a-z0-9])?} of 1-63 characters; at most 64 labels, keys of 1-63
 * lowercase letters, digits, {@code _} or {@code -} starting with a letter, values of 0-63 such
 * characters.
 */
final class GceNames {
  private GceNames() {}

  static final int MAX_LABELS = 64;
  private static final int MAX_LENGTH = 63;
  private static final Pattern INSTANCE_NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Whether {@code name} is a valid instance name as it is (engine names always are). */
  static boolean isValidInstanceName(String name) {
    return INSTANCE_NAME.matcher(name).matches();
  }

  /**
   * The labels to put on an instance: {@code ownership} (fleet, job, attempt) first and winning
   * any clash, then {@code extra} while there is room. Keys and values are lowercased, every
   * character outside {@code [a-z0-9_-]} becomes {@code _}, a key that does not start with a
   * letter gets a {@code k} in front, and both are cut to 63 characters. Values that already fit
   * (fleet and job ids, attempt numbers) pass unchanged, so they stay readable.
   */
  static Map<String, String> labels(Map<String, String> ownership, Map<String, String> extra) {
    Map<String, String> out = new LinkedHashMap<>();
    ownership.forEach((k, v) -> out.put(labelKey(k), labelValue(v)));
    extra.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> {
          String k = labelKey(e.getKey());
          if (out.size() < MAX_LABELS && !out.containsKey(k)) {
            out.put(k, labelValue(e.getValue()));
          }
        });
    return out;
  }

  /** A label key fitting GCE's rules. */
  static String labelKey(String key) {
    String k = clean(key);
    if (k.isEmpty() || !(k.charAt(0) >= 'a' && k.charAt(0) <= 'z')) {
      k = "k" + k;
    }
    return cut(k);
  }

  /** A label value fitting GCE's rules. */
  static String labelValue(String value) {
    return cut(clean(value));
  }

  private static String clean(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(lower.length());
    lower.codePoints().forEach(c -> b.append(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' ? (char) c : '_'));
    return b.toString();
  }

  private static String cut(String s) {
    return s.length() <= MAX_LENGTH ? s : s.substring(0, MAX_LENGTH);
  }
}
