package dev.acceldispatch.spring.boot.autoconfigure;

import java.util.List;
import java.util.function.Consumer;

/**
 * Applies optional properties to a builder: a property left unset keeps the builder's own default,
 * which the library documents in one place rather than the starter repeating it.
 */
final class Settings {
  private Settings() {}

  /** Calls {@code setter} with {@code value} when it is set. */
  static <T> void ifSet(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  /** Calls {@code setter} with the list as an array when it is set, for the builders' varargs. */
  static void ifSetStrings(List<String> values, Consumer<String[]> setter) {
    if (values != null) {
      setter.accept(values.toArray(String[]::new));
    }
  }
}
