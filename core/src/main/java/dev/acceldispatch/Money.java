package dev.acceldispatch;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Objects;

/**
 * An amount of US dollars. Prices, costs and budgets all use it, so sums never lose cents to
 * floating point.
 *
 * @param amount the amount in USD; never negative
 */
public record Money(BigDecimal amount) implements Comparable<Money> {
  /** Nothing. */
  public static final Money ZERO = new Money(BigDecimal.ZERO);

  private static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);

  /** Validates that the amount is present and not negative. */
  public Money {
    Objects.requireNonNull(amount, "amount");
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("amount must be >= 0 USD, got " + amount.toPlainString());
    }
  }

  /** Parses dollars, for example {@code usd("12.50")}. */
  public static Money usd(String amount) {
    Objects.requireNonNull(amount, "amount");
    try {
      return new Money(new BigDecimal(amount));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("amount must be a decimal number of USD, got '" + amount + "'");
    }
  }

  /** Dollars from a double, rounded to a millionth of a cent. */
  public static Money usd(double amount) {
    if (!Double.isFinite(amount)) {
      throw new IllegalArgumentException("amount must be finite, got " + amount);
    }
    return new Money(scaled(amount));
  }

  /**
   * The amount at 8 decimal places, built from a long rather than through the double's decimal
   * string: placement prices thousands of candidates per decision.
   */
  private static BigDecimal scaled(double amount) {
    double units = amount * 1e8;
    if (Math.abs(units) < 9e18) {
      return BigDecimal.valueOf(Math.round(units), 8);
    }
    return BigDecimal.valueOf(amount).setScale(8, RoundingMode.HALF_UP);
  }

  /** This plus {@code other}. */
  public Money plus(Money other) {
    return new Money(amount.add(other.amount));
  }

  /** This minus {@code other}, never below zero. */
  public Money minusOrZero(Money other) {
    BigDecimal d = amount.subtract(other.amount);
    return d.signum() <= 0 ? ZERO : new Money(d);
  }

  /** This amount, read as a price per hour, held for {@code duration}. */
  public Money perHourFor(Duration duration) {
    BigDecimal seconds = BigDecimal.valueOf(duration.toMillis()).movePointLeft(3);
    return new Money(amount.multiply(seconds).divide(SECONDS_PER_HOUR, 8, RoundingMode.HALF_UP));
  }

  /** This amount times {@code factor} (not negative), computed in double precision: for estimates, never for accounting. */
  public Money times(double factor) {
    if (!(factor >= 0) || !Double.isFinite(factor)) {
      throw new IllegalArgumentException("factor must be a finite number >= 0, got " + factor);
    }
    return new Money(scaled(amount.doubleValue() * factor));
  }

  /** The amount as a double, for scoring (never for accounting). */
  public double toDouble() {
    return amount.doubleValue();
  }

  /** Whether this is more than {@code other}. */
  public boolean isGreaterThan(Money other) {
    return compareTo(other) > 0;
  }

  @Override
  public int compareTo(Money o) {
    return amount.compareTo(o.amount);
  }

  /**
   * For example {@code $12.34}: cents from a dollar up; below a dollar, two significant digits
   * (at least two decimals), so that a small cost reads {@code $0.0042}, not {@code $0.00}.
   */
  @Override
  public String toString() {
    if (amount.signum() == 0 || amount.compareTo(BigDecimal.ONE) >= 0) {
      return "$" + amount.setScale(2, RoundingMode.HALF_UP).toPlainString();
    }
    BigDecimal small = amount.round(new MathContext(2, RoundingMode.HALF_UP));
    return "$" + small.setScale(Math.max(2, small.scale()), RoundingMode.HALF_UP).toPlainString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Money m && m.amount.compareTo(amount) == 0;
  }

  @Override
  public int hashCode() {
    return amount.stripTrailingZeros().hashCode();
  }
}
