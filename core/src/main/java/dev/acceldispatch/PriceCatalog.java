package dev.acceldispatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Hourly prices by provider, SKU and region. Providers read their default prices here; a host
 * overrides any of them with {@link #toBuilder()}.
 *
 * <p>The built-in table ({@code dev/acceldispatch/prices.csv}, next to this class) cites a source
 * for every row. Cloud prices change: a host that needs exact numbers supplies its own.
 */
public final class PriceCatalog {
  /** The on-demand and spot price of one SKU in one region. */
  public record Prices(Money onDemand, Money spot) {
    /** Validates. */
    public Prices {
      Objects.requireNonNull(onDemand, "onDemand");
    }
  }

  /** Matches any region when no row names the region asked for. */
  public static final String ANY_REGION = "*";

  private static final PriceCatalog DEFAULTS = load();

  private final Map<String, Prices> prices;

  private PriceCatalog(Map<String, Prices> prices) {
    this.prices = Collections.unmodifiableMap(new LinkedHashMap<>(prices));
  }

  /** The built-in prices. */
  public static PriceCatalog defaults() {
    return DEFAULTS;
  }

  /** An empty catalog to fill. */
  public static Builder builder() {
    return new Builder(Map.of());
  }

  /** A builder starting from these prices. */
  public Builder toBuilder() {
    return new Builder(prices);
  }

  /**
   * The prices of {@code sku} at {@code providerId} in {@code region}, falling back to the
   * provider's {@link #ANY_REGION} row for the SKU.
   */
  public Optional<Prices> find(String providerId, String sku, String region) {
    Prices p = prices.get(key(providerId, sku, region));
    if (p == null) {
      p = prices.get(key(providerId, sku, ANY_REGION));
    }
    return Optional.ofNullable(p);
  }

  /**
   * Like {@link #find} but required.
   *
   * @throws IllegalArgumentException naming what is missing
   */
  public Prices require(String providerId, String sku, String region) {
    return find(providerId, sku, region)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no price for sku '" + sku + "' of provider '" + providerId + "' in region '"
                        + region + "'; add one with PriceCatalog.toBuilder().price(...)"));
  }

  private static String key(String providerId, String sku, String region) {
    return providerId + "|" + sku + "|" + region;
  }

  private static PriceCatalog load() {
    Builder b = builder();
    try (InputStream in = PriceCatalog.class.getResourceAsStream("prices.csv")) {
      if (in == null) {
        throw new IllegalStateException("prices.csv missing from the core jar");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank() || line.startsWith("#") || line.startsWith("provider,")) {
          continue;
        }
        String[] f = line.split(",", 6);
        if (f.length < 5) {
          throw new IllegalStateException("prices.csv line " + n + ": expected 6 fields");
        }
        b.price(f[0], f[1], f[2], Money.usd(f[3]), f[4].isEmpty() ? null : Money.usd(f[4]));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.build();
  }

  /** Builds a {@link PriceCatalog}. */
  public static final class Builder {
    private final Map<String, Prices> prices;

    private Builder(Map<String, Prices> start) {
      this.prices = new LinkedHashMap<>(start);
    }

    /**
     * Sets a price.
     *
     * @param region a region, or {@link #ANY_REGION}
     * @param spot the spot price, or {@code null} when there is none
     */
    public Builder price(String providerId, String sku, String region, Money onDemand, Money spot) {
      Objects.requireNonNull(providerId, "providerId");
      Objects.requireNonNull(sku, "sku");
      Objects.requireNonNull(region, "region");
      prices.put(key(providerId, sku, region), new Prices(onDemand, spot));
      return this;
    }

    /** Builds an immutable catalog. */
    public PriceCatalog build() {
      return new PriceCatalog(prices);
    }
  }
}
