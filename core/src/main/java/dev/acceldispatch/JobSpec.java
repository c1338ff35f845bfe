package dev.acceldispatch;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything the dispatcher needs to run one job: what runs, on what it may run, and the
 * constraints on where, when and at what price. Immutable; built with {@link #builder(String)},
 * copied with {@link #toBuilder()}; {@link Builder#build()} validates every field and names the
 * field and what is allowed when one is wrong.
 */
public final class JobSpec {
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  private final String name;
  private final Workload workload;
  private final AcceleratorRequest accelerators;
  private final Set<String> providers;
  private final Set<String> regions;
  private final Set<String> zones;
  private final SpotPolicy spot;
  private final int onDemandAfterPreemptions;
  private final Money maxHourlyPrice;
  private final Money maxTotalCost;
  private final int priority;
  private final String tenant;
  private final Map<String, String> labels;
  private final int preemptionBudget;
  private final Duration timeout;
  private final Duration startDeadline;
  private final ReferenceRunTime referenceRunTime;
  private final int hedge;
  private final String checkpointLocation;

  private JobSpec(Builder b) {
    this.name = b.name;
    this.workload = b.workload;
    this.accelerators = b.accelerators;
    this.providers = Collections.unmodifiableSet(new LinkedHashSet<>(b.providers));
    this.regions = Collections.unmodifiableSet(new LinkedHashSet<>(b.regions));
    this.zones = Collections.unmodifiableSet(new LinkedHashSet<>(b.zones));
    this.spot = b.spot;
    this.onDemandAfterPreemptions = b.onDemandAfterPreemptions;
    this.maxHourlyPrice = b.maxHourlyPrice;
    this.maxTotalCost = b.maxTotalCost;
    this.priority = b.priority;
    this.tenant = b.tenant;
    this.labels = Collections.unmodifiableMap(new LinkedHashMap<>(b.labels));
    this.preemptionBudget = b.preemptionBudget;
    this.timeout = b.timeout;
    this.startDeadline = b.startDeadline;
    this.referenceRunTime = b.referenceRunTime;
    this.hedge = b.hedge;
    this.checkpointLocation = b.checkpointLocation;
  }

  /** A builder for a job called {@code name} (1 to 128 printable characters). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder holding every setting of this spec. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.workload = workload;
    b.accelerators = accelerators;
    b.providers.addAll(providers);
    b.regions.addAll(regions);
    b.zones.addAll(zones);
    b.spot = spot;
    b.onDemandAfterPreemptions = onDemandAfterPreemptions;
    b.maxHourlyPrice = maxHourlyPrice;
    b.maxTotalCost = maxTotalCost;
    b.priority = priority;
    b.tenant = tenant;
    b.labels.putAll(labels);
    b.preemptionBudget = preemptionBudget;
    b.timeout = timeout;
    b.startDeadline = startDeadline;
    b.referenceRunTime = referenceRunTime;
    b.hedge = hedge;
    b.checkpointLocation = checkpointLocation;
    return b;
  }

  /** The job's name, for people; not unique. */
  public String name() {
    return name;
  }

  /** What runs. */
  public Workload workload() {
    return workload;
  }

  /** The shapes it may run on. */
  public AcceleratorRequest accelerators() {
    return accelerators;
  }

  /** Provider ids it may use; empty means any. */
  public Set<String> providers() {
    return providers;
  }

  /** Regions it may use; empty means any. */
  public Set<String> regions() {
    return regions;
  }

  /** Zones it may use; empty means any. */
  public Set<String> zones() {
    return zones;
  }

  /** Whether it may run on spot capacity. */
  public SpotPolicy spot() {
    return spot;
  }

  /**
   * After this many preemptions the job stops using spot and runs on-demand; negative means
   * never (the default).
   */
  public int onDemandAfterPreemptions() {
    return onDemandAfterPreemptions;
  }

  /** The highest hourly price it may run at. */
  public Optional<Money> maxHourlyPrice() {
    return Optional.ofNullable(maxHourlyPrice);
  }

  /** The most the whole job may cost, over all attempts. */
  public Optional<Money> maxTotalCost() {
    return Optional.ofNullable(maxTotalCost);
  }

  /** Higher runs first; default 0. */
  public int priority() {
    return priority;
  }

  /** Who the job belongs to, for fair share, quotas and accounting; default {@code default}. */
  public String tenant() {
    return tenant;
  }

  /** Labels copied onto every cloud resource (after each cloud's sanitising). */
  public Map<String, String> labels() {
    return labels;
  }

  /** How many preemptions or losses the job survives before it fails; default 3. */
  public int preemptionBudget() {
    return preemptionBudget;
  }

  /** The job fails if it has not ended this long after it was submitted. */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  /** The job fails if it is not running this long after it was submitted. */
  public Optional<Duration> startDeadline() {
    return Optional.ofNullable(startDeadline);
  }

  /** How long it runs on a named shape, for estimates. */
  public Optional<ReferenceRunTime> referenceRunTime() {
    return Optional.ofNullable(referenceRunTime);
  }

  /**
   * How many offers to provision at once; the first that runs is kept and the others are
   * released. 1 (the default) turns hedging off.
   */
  public int hedge() {
    return hedge;
  }

  /** Where the workload should keep checkpoints, passed as {@code ACCEL_DISPATCH_CHECKPOINT_DIR}. */
  public Optional<String> checkpointLocation() {
    return Optional.ofNullable(checkpointLocation);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobSpec s
        && name.equals(s.name)
        && workload.equals(s.workload)
        && accelerators.equals(s.accelerators)
        && providers.equals(s.providers)
        && regions.equals(s.regions)
        && zones.equals(s.zones)
        && spot == s.spot
        && onDemandAfterPreemptions == s.onDemandAfterPreemptions
        && Objects.equals(maxHourlyPrice, s.maxHourlyPrice)
        && Objects.equals(maxTotalCost, s.maxTotalCost)
        && priority == s.priority
        && tenant.equals(s.tenant)
        && labels.equals(s.labels)
        && preemptionBudget == s.preemptionBudget
        && Objects.equals(timeout, s.timeout)
        && Objects.equals(startDeadline, s.startDeadline)
        && Objects.equals(referenceRunTime, s.referenceRunTime)
        && hedge == s.hedge
        && Objects.equals(checkpointLocation, s.checkpointLocation);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, workload, accelerators, tenant, priority);
  }

  @Override
  public String toString() {
    return "JobSpec{name=" + name + ", tenant=" + tenant + ", priority=" + priority
        + ", accelerators=" + accelerators.shapes() + ", spot=" + spot
        + (maxHourlyPrice == null ? "" : ", maxHourlyPrice=" + maxHourlyPrice)
        + (maxTotalCost == null ? "" : ", maxTotalCost=" + maxTotalCost)
        + ", workload=" + workload + "}";
  }

  /** Builds a {@link JobSpec}. Not thread-safe; {@link #build()} copies everything. */
  public static final class Builder {
    private final String name;
    private Workload workload;
    private Workload.Builder workloadBuilder;
    private boolean containerSet;
    private boolean scriptSet;
    private AcceleratorRequest accelerators;
    private final Set<String> providers = new LinkedHashSet<>();
    private final Set<String> regions = new LinkedHashSet<>();
    private final Set<String> zones = new LinkedHashSet<>();
    private SpotPolicy spot = SpotPolicy.NEVER;
    private int onDemandAfterPreemptions = -1;
    private Money maxHourlyPrice;
    private Money maxTotalCost;
    private int priority;
    private String tenant = "default";
    private final Map<String, String> labels = new LinkedHashMap<>();
    private int preemptionBudget = 3;
    private Duration timeout;
    private Duration startDeadline;
    private ReferenceRunTime referenceRunTime;
    private int hedge = 1;
    private String checkpointLocation;

    private Builder(String name) {
      this.name = name;
    }

    /** Runs this container image with this command; a job runs a container or a script, not both. */
    public Builder container(String image, String... command) {
      this.containerSet = true;
      this.workload = null;
      this.workloadBuilder = Workload.container(image, command);
      return this;
    }

    /** Runs this shell script; a job runs a container or a script, not both. */
    public Builder script(String script) {
      this.scriptSet = true;
      this.workload = null;
      this.workloadBuilder = Workload.script(script);
      return this;
    }

    /** Runs this workload. */
    public Builder workload(Workload workload) {
      this.workload = Objects.requireNonNull(workload, "workload");
      this.workloadBuilder = null;
      return this;
    }

    /** Adds a plain environment variable to the workload set by {@link #container} or {@link #script}. */
    public Builder env(String name, String value) {
      workloadBuilderForEnv().env(name, value);
      return this;
    }

    /** Adds a secret environment variable (never printed or logged). */
    public Builder secretEnv(String name, Secret value) {
      workloadBuilderForEnv().secretEnv(name, value);
      return this;
    }

    private Workload.Builder workloadBuilderForEnv() {
      if (workloadBuilder == null && workload != null) {
        workloadBuilder = workload.toBuilder();
        workload = null;
      }
      if (workloadBuilder == null) {
        throw new IllegalStateException("set container(...) or script(...) before env(...)");
      }
      return workloadBuilder;
    }

    /** The shapes it may run on. */
    public Builder accelerators(AcceleratorRequest accelerators) {
      this.accelerators = Objects.requireNonNull(accelerators, "accelerators");
      return this;
    }

    /** Shorthand for {@code accelerators(AcceleratorRequest.anyOf(first, more...))}. */
    public Builder accelerators(AcceleratorShape first, AcceleratorShape... more) {
      return accelerators(AcceleratorRequest.anyOf(first, more));
    }

    /** Restricts it to these provider ids. */
    public Builder providers(String... ids) {
      providers.addAll(java.util.List.of(ids));
      return this;
    }

    /** Restricts it to these regions. */
    public Builder regions(String... regions) {
      this.regions.addAll(java.util.List.of(regions));
      return this;
    }

    /** Restricts it to these zones. */
    public Builder zones(String... zones) {
      this.zones.addAll(java.util.List.of(zones));
      return this;
    }

    /** Whether it may use spot capacity; default {@link SpotPolicy#NEVER}. */
    public Builder spot(SpotPolicy spot) {
      this.spot = Objects.requireNonNull(spot, "spot");
      return this;
    }

    /** After {@code preemptions} preemptions, run on-demand instead of spot. */
    public Builder onDemandAfterPreemptions(int preemptions) {
      this.onDemandAfterPreemptions = preemptions;
      return this;
    }

    /** The highest hourly price allowed. */
    public Builder maxHourlyPrice(Money price) {
      this.maxHourlyPrice = Objects.requireNonNull(price, "maxHourlyPrice");
      return this;
    }

    /** The highest hourly price allowed, in USD; must be positive. */
    public Builder maxHourlyPriceUsd(double usd) {
      this.maxHourlyPrice = positiveUsd("maxHourlyPrice", usd);
      return this;
    }

    /** The most the whole job may cost. */
    public Builder maxTotalCost(Money cost) {
      this.maxTotalCost = Objects.requireNonNull(cost, "maxTotalCost");
      return this;
    }

    /** The most the whole job may cost, in USD; must be positive. */
    public Builder maxTotalCostUsd(double usd) {
      this.maxTotalCost = positiveUsd("maxTotalCost", usd);
      return this;
    }

    /** Higher runs first. */
    public Builder priority(int priority) {
      this.priority = priority;
      return this;
    }

    /** The tenant it belongs to. */
    public Builder tenant(String tenant) {
      this.tenant = tenant;
      return this;
    }

    /** Adds a label (lowercase key and value, as clouds demand). */
    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    /** How many preemptions or losses the job survives; default 3. */
    public Builder preemptionBudget(int budget) {
      this.preemptionBudget = budget;
      return this;
    }

    /** The job fails if not ended this long after submission. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** The job fails if not running this long after submission. */
    public Builder startDeadline(Duration deadline) {
      this.startDeadline = deadline;
      return this;
    }

    /** How long the job runs on {@code shape}, for estimates on every shape. */
    public Builder referenceRunTime(AcceleratorShape shape, Duration runTime) {
      this.referenceRunTime = new ReferenceRunTime(shape, runTime);
      return this;
    }

    /** Provision the top {@code offers} offers at once and keep the first that runs (1 = off). */
    public Builder hedge(int offers) {
      this.hedge = offers;
      return this;
    }

    /** Where the workload keeps checkpoints. */
    public Builder checkpointLocation(String location) {
      this.checkpointLocation = location;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalArgumentException naming the field and what is allowed
     * @throws NullPointerException naming the missing field
     */
    public JobSpec build() {
      Objects.requireNonNull(name, "name: give the job a name of 1 to 128 printable characters");
      if (containerSet && scriptSet) {
        throw new IllegalArgumentException(
            "workload: both container(...) and script(...) were set; a job runs one of them, set only one");
      }
      if (name.isBlank() || name.length() > 128
          || name.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException(
            "name must be 1 to 128 printable characters, got '" + name + "'");
      }
      if (workloadBuilder != null) {
        workload = workloadBuilder.build();
        workloadBuilder = null;
      }
      if (workload == null) {
        throw new NullPointerException("workload: set container(...), script(...) or workload(...)");
      }
      if (accelerators == null) {
        throw new NullPointerException(
            "accelerators: set the shapes the job may run on, e.g. accelerators(Shapes.tpuV5e(8))");
      }
      for (String p : providers) {
        requireNonBlank("providers", p);
      }
      for (String r : regions) {
        requireNonBlank("regions", r);
      }
      for (String z : zones) {
        requireNonBlank("zones", z);
      }
      if (tenant == null || !TENANT.matcher(tenant).matches()) {
        throw new IllegalArgumentException(
            "tenant must be 1 to 63 of [A-Za-z0-9._-] starting with a letter or digit, got '" + tenant + "'");
      }
      labels.forEach(
          (k, v) -> {
            if (k == null || !LABEL_KEY.matcher(k).matches()) {
              throw new IllegalArgumentException(
                  "labels key must be 1 to 63 of [a-z0-9_-] starting with a letter, got '" + k + "'");
            }
            if (v == null || !LABEL_VALUE.matcher(v).matches()) {
              throw new IllegalArgumentException(
                  "labels[" + k + "] value must be 0 to 63 of [a-z0-9_-], got '" + v + "'");
            }
          });
      if (labels.size() > 32) {
        throw new IllegalArgumentException("labels: at most 32, got " + labels.size());
      }
      if (preemptionBudget < 0) {
        throw new IllegalArgumentException("preemptionBudget must be >= 0, got " + preemptionBudget);
      }
      requirePositive("timeout", timeout);
      requirePositive("startDeadline", startDeadline);
      if (hedge < 1 || hedge > 8) {
        throw new IllegalArgumentException("hedge must be between 1 (off) and 8 offers, got " + hedge);
      }
      if (spot == SpotPolicy.NEVER && onDemandAfterPreemptions >= 0) {
        throw new IllegalArgumentException(
            "onDemandAfterPreemptions applies only with spot PREFER or ONLY, but spot is NEVER");
      }
      if (maxHourlyPrice != null && maxHourlyPrice.amount().signum() == 0) {
        throw new IllegalArgumentException("maxHourlyPrice must be positive, got " + maxHourlyPrice);
      }
      if (maxTotalCost != null && maxTotalCost.amount().signum() == 0) {
        throw new IllegalArgumentException("maxTotalCost must be positive, got " + maxTotalCost);
      }
      if (checkpointLocation != null && checkpointLocation.isBlank()) {
        throw new IllegalArgumentException("checkpointLocation must not be blank");
      }
      return new JobSpec(this);
    }

    private static Money positiveUsd(String field, double usd) {
      if (!(usd > 0) || !Double.isFinite(usd)) {
        throw new IllegalArgumentException(field + " must be a positive amount of USD, got " + usd);
      }
      return Money.usd(usd);
    }

    private static void requireNonBlank(String field, String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(field + " must not contain blank entries");
      }
    }

    private static void requirePositive(String field, Duration d) {
      if (d != null && (d.isZero() || d.isNegative())) {
        throw new IllegalArgumentException(field + " must be positive, got " + d);
      }
    }
  }
}
