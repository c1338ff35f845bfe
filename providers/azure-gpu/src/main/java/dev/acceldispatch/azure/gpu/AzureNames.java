package dev.acceldispatch.azure.gpu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Azure's naming rules, in one place: VM names, and tags (the one tag-sanitising function of this
 * provider).
 */
final class AzureNames {
  /** Azure allows at most 50 tags per resource. */
  static final int MAX_TAGS = 50;
  /** Tag names: at most 512 characters (128 for storage accounts; we keep to 128 everywhere). */
  static final int MAX_TAG_NAME = 128;
  /** Tag values: at most 256 characters. */
  static final int MAX_TAG_VALUE = 256;

  private AzureNames() {}

  /**
   * The VM name for an engine resource name. Linux VM names are 1 to 64 characters of letters,
   * digits, '-', '_' and '.', not ending in '.' or '-'; the engine's names
   * ({@code [a-z]([-a-z0-9]{0,38}[a-z0-9])?}) already fit, so this checks rather than rewrites, and
   * the VM is found again under exactly the engine's name.
   */
  static String vmName(String resourceName) {
    if (!resourceName.matches("[a-z]([-a-z0-9]{0,38}[a-z0-9])?")) {
      throw new IllegalArgumentException("resourceName does not fit Azure VM naming: " + resourceName);
    }
    return resourceName;
  }

  /**
   * Makes tags fit Azure: names lose the characters Azure forbids ({@code < > % & \ ? /}) and
   * control characters (each becomes '_'), are trimmed and cut to 128 characters; values lose
   * control characters and are cut to 256. Empty names are dropped. Tag names are
   * case-insensitive in Azure, so a later name equal to an earlier one ignoring case replaces it.
   * At most {@code max} tags are kept, in order: put the ones that must survive first.
   */
  static Map<String, String> tags(Map<String, String> in, int max) {
    Map<String, String> byLower = new LinkedHashMap<>();
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : in.entrySet()) {
      String name = tagName(e.getKey());
      if (name.isEmpty()) {
        continue;
      }
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      String previous = byLower.put(lower, name);
      if (previous != null) {
        out.remove(previous);
      } else if (out.size() >= max) {
        byLower.remove(lower);
        continue;
      }
      out.put(name, tagValue(e.getValue()));
    }
    return out;
  }

  /** A tag name Azure accepts. */
  static String tagName(String raw) {
    StringBuilder b = new StringBuilder();
    raw.codePoints()
        .forEach(cp -> {
          if ("<>%&\\?/".indexOf(cp) >= 0 || Character.isISOControl(cp)) {
            b.append('_');
          } else {
            b.appendCodePoint(cp);
          }
        });
    return cut(b.toString().strip(), MAX_TAG_NAME);
  }

  /** A tag value Azure accepts. */
  static String tagValue(String raw) {
    if (raw == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    raw.codePoints().forEach(cp -> b.appendCodePoint(Character.isISOControl(cp) ? ' ' : cp));
    return cut(b.toString(), MAX_TAG_VALUE);
  }

  private static String cut(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    int end = max;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }
}
