package dev.acceldispatch.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.local.LocalProvider;
import dev.acceldispatch.spi.Provider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * What the tool runs on: the store and the providers, from {@code --config FILE}, else the file
 * named by {@code ACCEL_DISPATCH_CONFIG}, else the defaults: an embedded H2 store and the local
 * provider, both under {@code ~/.accel-dispatch}.
 *
 * <pre>
 * store:
 *   jdbcUrl: jdbc:postgresql://127.0.0.1:5432/test   # or h2: /path/to/jobs (a file base name)
 *   user: postgres
 *   passwordFromEnv: PGPASSWORD                      # never the password itself
 *   schema: accel                                   # optional; default the connection's
 *   tablePrefix: accel_
 * local:
 *   stateDirectory: /var/lib/accel-dispatch/local
 *   logDirectory: /var/log/accel-dispatch
 *   cpuSlots: 4
 * fleetId: default
 * leaseDuration: 15s
 * pollInterval: 1s
 * </pre>
 *
 * @param source where the settings came from, for messages
 * @param home the tool's folder (default {@code ~/.accel-dispatch})
 * @param jdbcUrl the store's JDBC URL
 * @param user the database user, or {@code null}
 * @param password the database password, or {@code null}; never printed
 * @param schema the store's database schema, or {@code null} for the connection's default
 * @param tablePrefix the store's table prefix, or {@code null} for the default
 * @param stateDirectory the local provider's state folder
 * @param logDirectory the local provider's log folder
 * @param cpuSlots the local provider's CPU slots, or {@code null} for one per processor
 * @param fleetId the dispatcher's fleet id
 * @param leaseDuration how long a dispatcher's lease of a job lasts (a new job is picked up within
 *     a third of it)
 * @param pollInterval the longest pause between two status polls of a running attempt
 */
record CliConfig(
    String source,
    Path home,
    String jdbcUrl,
    String user,
    String password,
    String schema,
    String tablePrefix,
    Path stateDirectory,
    Path logDirectory,
    Integer cpuSlots,
    String fleetId,
    Duration leaseDuration,
    Duration pollInterval) {

  static final String ENV_CONFIG = "ACCEL_DISPATCH_CONFIG";
  private static final List<String> TOP_KEYS = List.of("home", "store", "local", "fleetId", "leaseDuration", "pollInterval");
  private static final List<String> STORE_KEYS = List.of("h2", "jdbcUrl", "user", "passwordFromEnv", "schema", "tablePrefix");
  private static final List<String> LOCAL_KEYS = List.of("stateDirectory", "logDirectory", "cpuSlots");
  private static final YAMLMapper MAPPER =
      new YAMLMapper(YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  /** Hides the password. */
  @Override
  public String toString() {
    return "CliConfig{source=" + source + ", store=" + jdbcUrl + ", user=" + user
        + ", password=" + (password == null ? "none" : "****") + ", local=" + stateDirectory + "}";
  }

  /**
   * Loads the configuration: {@code explicit} (the {@code --config} option) if given, else the
   * file in {@code ACCEL_DISPATCH_CONFIG}, else the defaults under {@code userHome}.
   */
  static CliConfig load(Path explicit, Function<String, String> env, Path userHome) {
    Path file = explicit;
    String how = "--config";
    if (file == null && env.apply(ENV_CONFIG) != null && !env.apply(ENV_CONFIG).isBlank()) {
      file = Path.of(env.apply(ENV_CONFIG));
      how = ENV_CONFIG;
    }
    if (file == null) {
      return fromTree(MAPPER.createObjectNode(), "defaults (" + userHome.resolve(".accel-dispatch") + ")", env, userHome);
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw UserError.invalid(how + ": configuration file " + file + " does not exist");
    } catch (IOException e) {
      throw UserError.invalid(how + ": cannot read " + file + ": " + e.getMessage());
    }
    JsonNode root;
    try {
      root = text.isBlank() ? MAPPER.createObjectNode() : MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw UserError.invalid(file + (e.getLocation() == null ? "" : ":" + e.getLocation().getLineNr())
          + ": not valid YAML: " + e.getOriginalMessage());
    }
    if (!root.isObject()) {
      throw UserError.invalid(file + ": the configuration must be a mapping (store:, local:, ...)");
    }
    return fromTree(root, file.toString(), env, userHome);
  }

  private static CliConfig fromTree(JsonNode root, String source, Function<String, String> env, Path userHome) {
    checkKeys(root, source, "", TOP_KEYS);
    Path home = root.has("home") ? Path.of(text(root, source, "home")) : userHome.resolve(".accel-dispatch");
    JsonNode store = section(root, source, "store", STORE_KEYS);
    if (store.has("h2") && store.has("jdbcUrl")) {
      throw UserError.invalid(source + ": store: set either h2 (a file) or jdbcUrl, not both");
    }
    String url = store.has("jdbcUrl") ? text(store, source, "jdbcUrl")
        : JdbcJobStore.h2FileUrl(store.has("h2") ? Path.of(text(store, source, "h2")).toAbsolutePath().toString()
            : home.resolve("jobs").toAbsolutePath().toString())
            // Several commands (a run, a list in another terminal) open the file at once.
            + ";AUTO_SERVER=TRUE";
    if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:h2:")) {
      throw UserError.invalid(source + ": store.jdbcUrl: only PostgreSQL (jdbc:postgresql:...) and H2 (jdbc:h2:...) are supported, got "
          + url.split(";", 2)[0]);
    }
    String user = store.has("user") ? text(store, source, "user") : (url.startsWith("jdbc:h2:") ? "sa" : null);
    String password = null;
    if (store.has("passwordFromEnv")) {
      String var = text(store, source, "passwordFromEnv");
      password = env.apply(var);
      if (password == null) {
        throw UserError.invalid(source + ": store.passwordFromEnv: environment variable " + var + " is not set");
      }
    }
    JsonNode local = section(root, source, "local", LOCAL_KEYS);
    Path state = local.has("stateDirectory") ? Path.of(text(local, source, "stateDirectory")) : home.resolve("local");
    Path logs = local.has("logDirectory") ? Path.of(text(local, source, "logDirectory")) : home.resolve("logs");
    Integer cpuSlots = null;
    if (local.has("cpuSlots")) {
      JsonNode n = local.get("cpuSlots");
      if (!n.isIntegralNumber() || n.intValue() < 0) {
        throw UserError.invalid(source + ": local.cpuSlots must be a whole number >= 0, got '" + n.asText() + "'");
      }
      cpuSlots = n.intValue();
    }
    String fleet = root.has("fleetId") ? text(root, source, "fleetId") : "default";
    Duration lease = duration(root, source, "leaseDuration", Duration.ofSeconds(15));
    Duration poll = duration(root, source, "pollInterval", Duration.ofSeconds(2));
    return new CliConfig(source, home, url, user, password, store.has("schema") ? text(store, source, "schema") : null,
        store.has("tablePrefix") ? text(store, source, "tablePrefix") : null,
        state, logs, cpuSlots, fleet, lease, poll);
  }

  /** A copy with another fleet id. */
  CliConfig withFleetId(String fleet) {
    return new CliConfig(source, home, jdbcUrl, user, password, schema, tablePrefix, stateDirectory, logDirectory, cpuSlots, fleet,
        leaseDuration, pollInterval);
  }

  /** Opens the store (migrating its schema when needed). The caller closes it. */
  OpenStore openStore() {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(jdbcUrl);
    if (user != null) {
      cfg.setUsername(user);
    }
    if (password != null) {
      cfg.setPassword(password);
    }
    cfg.setMaximumPoolSize(4);
    cfg.setMinimumIdle(0);
    cfg.setPoolName("accel-dispatch-cli");
    cfg.setInitializationFailTimeout(-1);
    try {
      if (jdbcUrl.startsWith("jdbc:h2:file:")) {
        Files.createDirectories(home);
      }
    } catch (IOException e) {
      throw new UserError(ExitCodes.UNAVAILABLE, "cannot create " + home + ": " + e.getMessage());
    }
    HikariDataSource pool = new HikariDataSource(cfg);
    try {
      JdbcJobStore.Builder b = JdbcJobStore.builder(pool);
      if (schema != null) {
        b.schema(schema);
      }
      if (tablePrefix != null) {
        b.tablePrefix(tablePrefix);
      }
      return new OpenStore(b.build(), pool);
    } catch (IllegalArgumentException e) {
      pool.close();
      throw UserError.invalid(source + ": store: " + e.getMessage());
    } catch (RuntimeException e) {
      pool.close();
      throw new UserError(ExitCodes.UNAVAILABLE, "cannot open the job store " + jdbcUrl.split(";", 2)[0] + " (from " + source + "): "
          + rootMessage(e));
    }
  }

  /** The providers the configuration wires: today the local provider. */
  List<Provider> providers() {
    LocalProvider.Builder b = LocalProvider.builder(stateDirectory).logDirectory(logDirectory);
    if (cpuSlots != null) {
      b.cpuSlots(cpuSlots);
    }
    return List.of(b.build());
  }

  /** A store and the pool it runs on; closing closes both. */
  record OpenStore(JdbcJobStore store, HikariDataSource pool) implements AutoCloseable {
    @Override
    public void close() {
      store.close();
      pool.close();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
  }

  private static JsonNode section(JsonNode root, String source, String name, List<String> keys) {
    if (!root.has(name)) {
      return MAPPER.createObjectNode();
    }
    JsonNode n = root.get(name);
    if (!n.isObject()) {
      throw UserError.invalid(source + ": " + name + " must be a mapping of " + String.join(", ", keys));
    }
    checkKeys(n, source, name + ".", keys);
    return n;
  }

  private static void checkKeys(JsonNode node, String source, String prefix, List<String> allowed) {
    node.fieldNames().forEachRemaining(k -> {
      if (!allowed.contains(k)) {
        throw UserError.invalid(source + ": unknown setting '" + prefix + k + "'; allowed: " + String.join(", ", allowed));
      }
    });
  }

  private static String text(JsonNode node, String source, String field) {
    JsonNode v = node.get(field);
    if (!v.isValueNode() || v.isNull() || v.asText().isBlank()) {
      throw UserError.invalid(source + ": " + field + " must be a non-empty value");
    }
    return v.asText();
  }

  private static Duration duration(JsonNode root, String source, String field, Duration dflt) {
    if (!root.has(field)) {
      return dflt;
    }
    try {
      Duration d = DurationText.parse(text(root, source, field));
      if (d.isZero()) {
        throw new IllegalArgumentException("must be positive");
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw UserError.invalid(source + ": " + field + ": " + e.getMessage());
    }
  }
}
