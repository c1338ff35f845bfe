package dev.acceldispatch;

import java.time.Duration;

/** Formats durations for people: {@code 2h05m}, {@code 3m10s}, {@code 450ms}. */
final class Durations {
  private Durations() {}

  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s < 60) {
      return s + "s";
    }
    long m = s / 60;
    if (m < 60) {
      return m + "m" + String.format("%02ds", s % 60);
    }
    return (m / 60) + "h" + String.format("%02dm", m % 60);
  }
}
