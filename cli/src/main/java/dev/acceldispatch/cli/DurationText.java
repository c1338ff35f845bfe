package dev.acceldispatch.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them in job files and options: {@code 90s}, {@code 15m}, {@code
 * 1h30m}, {@code 2d}, {@code 500ms}, or ISO-8601 ({@code PT2H}). {@link #format} writes the short
 * form back, exactly (to the millisecond), so a job file round-trips.
 */
final class DurationText {
  static final String ALLOWED = "a duration such as 90s, 15m, 1h30m, 2d, 500ms or PT2H";
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|d|h|m|s)");

  private DurationText() {}

  /** Parses {@code text}; throws IllegalArgumentException saying what is allowed. */
  static Duration parse(String text) {
    String t = text.strip();
    if (t.startsWith("P") || t.startsWith("p")) {
      try {
        return Duration.parse(t);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("'" + text + "' is not " + ALLOWED);
      }
    }
    Matcher m = PART.matcher(t);
    Duration d = Duration.ZERO;
    int at = 0;
    while (at < t.length() && m.find(at) && m.start() == at) {
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "d" -> Duration.ofDays(n);
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        default -> Duration.ofMillis(n);
      });
      at = m.end();
    }
    if (t.isEmpty() || at != t.length()) {
      throw new IllegalArgumentException("'" + text + "' is not " + ALLOWED);
    }
    return d;
  }

  /** The short form: {@code 1h30m}, {@code 1s500ms}; sub-millisecond parts use ISO-8601. */
  static String format(Duration d) {
    if (d.getNano() % 1_000_000 != 0 || d.isNegative()) {
      return d.toString();
    }
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    StringBuilder sb = new StringBuilder();
    long[] units = {86_400_000L, 3_600_000L, 60_000L, 1000L, 1L};
    String[] names = {"d", "h", "m", "s", "ms"};
    for (int i = 0; i < units.length; i++) {
      if (ms >= units[i]) {
        sb.append(ms / units[i]).append(names[i]);
        ms %= units[i];
      }
    }
    return sb.toString();
  }
}
