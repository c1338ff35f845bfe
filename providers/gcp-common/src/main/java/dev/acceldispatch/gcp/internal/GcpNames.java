package dev.acceldispatch.gcp.internal;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The one function that makes names and labels fit Google Cloud's rules, for every Google
 * provider, so the same job carries the same labels on a TPU node and on a Compute Engine VM.
 *
 * <p>Labels (Resource Manager rules, the same for Compute Engine and Cloud TPU): at most 64; keys
 * 1-63 characters of lowercase letters, digits, {@code _} and {@code -}, starting with a lowercase
 * letter; values 0-63 such characters. Upper case becomes lower case, every other character becomes
 * {@code _}, a key that does not start with a letter gets {@code k} in front, and both are cut to
 * 63 characters. Values that already fit (fleet and job ids, attempt numbers) pass unchanged.
 */
public final class GcpNames {
  /** At most this many labels on one resource. */
  public static final int MAX_LABELS = 64;
  /** The longest label key or value. */
  public static final int MAX_LENGTH = 63;

  private static final Pattern RESOURCE_NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");

  private GcpNames() {}

  /**
   * Whether {@code name} is a valid instance or node name as it is: {@code
   * [a-z]([-a-z0-9]*[a-z0-9])?}, 1-63 characters (engine names always are).
   */
  public static boolean isValidResourceName(String name) {
    return name != null && RESOURCE_NAME.matcher(name).matches();
  }

  /**
   * The labels to put on a resource: {@code ownership} (fleet, job, attempt) first and winning any
   * clash, then {@code extra} in key order while there is room.
   */
  public static Map<String, String> labels(Map<String, String> ownership, Map<String, String> extra) {
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

  /** A label key fitting the rules. */
  public static String labelKey(String key) {
    String k = clean(Objects.requireNonNull(key, "key"));
    if (k.isEmpty() || !(k.charAt(0) >= 'a' && k.charAt(0) <= 'z')) {
      k = "k" + k;
    }
    return cut(k);
  }

  /** A label value fitting the rules ({@code null} becomes empty). */
  public static String labelValue(String value) {
    return cut(clean(value == null ? "" : value));
  }

  private static String clean(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(Math.min(lower.length(), MAX_LENGTH + 1));
    lower.codePoints().limit(MAX_LENGTH + 1L).forEach(c ->
        b.append(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' ? (char) c : '_'));
    return b.toString();
  }

  private static String cut(String s) {
    return s.length() <= MAX_LENGTH ? s : s.substring(0, MAX_LENGTH);
  }
}
