package dev.acceldispatch.local;

import dev.acceldispatch.spi.ProvisionRequest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one label-sanitising function of the local provider. Labels end up in the attempt's state
 * file and, for containers, in {@code --label key=value}: keys become lowercase letters, digits,
 * '.', '_', '-' (at most 63 characters, starting with a letter or digit); values lose control
 * characters and keep at most 256 characters. The ownership labels (fleet, job, attempt) are
 * applied last and so always win; their values are already safe and stay readable.
 */
final class LocalLabels {
  static final int MAX_KEY = 63;
  static final int MAX_VALUE = 256;

  private LocalLabels() {}

  /** The labels to record for {@code request}. */
  static Map<String, String> of(ProvisionRequest request) {
    Map<String, String> out = new LinkedHashMap<>();
    request.labels().forEach((k, v) -> put(out, k, v));
    request.ownershipLabels().forEach((k, v) -> put(out, k, v));
    return out;
  }

  private static void put(Map<String, String> out, String key, String value) {
    String k = key(key);
    if (!k.isEmpty()) {
      out.put(k, value(value));
    }
  }

  static String key(String key) {
    StringBuilder b = new StringBuilder();
    for (char c : key.toLowerCase(Locale.ROOT).toCharArray()) {
      boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      b.append(ok ? c : '_');
    }
    String k = b.toString();
    while (!k.isEmpty() && !Character.isLetterOrDigit(k.charAt(0))) {
      k = k.substring(1);
    }
    return k.length() > MAX_KEY ? k.substring(0, MAX_KEY) : k;
  }

  static String value(String value) {
    StringBuilder b = new StringBuilder();
    value.codePoints()
        .filter(cp -> !Character.isISOControl(cp))
        .limit(MAX_VALUE)
        .forEach(b::appendCodePoint);
    return b.toString();
  }
}
