package dev.acceldispatch.internal;

import dev.acceldispatch.Attempt;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's attempts in number order. A job that fails over through a long stockout collects
 * hundreds of attempts, so the lookups made on every event avoid walking them all: attempt
 * {@code n} is looked for at index {@code n - 1} first, the highest number is kept, and attempts
 * before {@link #firstMaybeLive} are known to have ended (an ended attempt never comes back).
 */
final class AttemptLog {
  private final List<Attempt> attempts = new ArrayList<>();
  private int highestNumber;
  private int firstMaybeLive;

  /** Adds an attempt, or replaces the one with its number. */
  void put(Attempt updated) {
    int at = indexOf(updated.number());
    if (at < 0) {
      attempts.add(updated);
      at = attempts.size() - 1;
    } else {
      attempts.set(at, updated);
    }
    highestNumber = Math.max(highestNumber, updated.number());
    if (updated.isLive() && at < firstMaybeLive) {
      firstMaybeLive = at;
    }
  }

  /** Attempt number {@code number}, or null. */
  Attempt get(int number) {
    int at = indexOf(number);
    return at < 0 ? null : attempts.get(at);
  }

  int nextNumber() {
    return highestNumber + 1;
  }

  List<Attempt> live() {
    while (firstMaybeLive < attempts.size() && !attempts.get(firstMaybeLive).isLive()) {
      firstMaybeLive++;
    }
    List<Attempt> live = null;
    for (int i = firstMaybeLive; i < attempts.size(); i++) {
      Attempt a = attempts.get(i);
      if (a.isLive()) {
        if (live == null) {
          live = new ArrayList<>(2);
        }
        live.add(a);
      }
    }
    return live == null ? List.of() : live;
  }

  /** All of them, as an immutable copy. */
  List<Attempt> snapshot() {
    return List.copyOf(attempts);
  }

  private int indexOf(int number) {
    int guess = number - 1;
    if (guess >= 0 && guess < attempts.size() && attempts.get(guess).number() == number) {
      return guess;
    }
    for (int i = 0; i < attempts.size(); i++) {
      if (attempts.get(i).number() == number) {
        return i;
      }
    }
    return -1;
  }
}
