package dev.acceldispatch.jdbc.internal;

import dev.acceldispatch.JobQuery;
import dev.acceldispatch.JobState;
import dev.acceldispatch.jdbc.JdbcStoreException;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.StaleJobException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs table: migrations, the start-up checks and every statement the store runs. Not API.
 */
public final class JobTable {
  private static final Logger log = LoggerFactory.getLogger(JobTable.class);

  /** Where the migrations live on the class path. */
  public static final String MIGRATIONS = "classpath:db/acceldispatch";

  private static final String COLUMNS =
      "id, state, version, submitted_at, updated_at, preemptions, message, exit_code,"
          + " result_attributes, spec, attempts";

  /** How many rows {@link #resealSecrets} reads per query. */
  private static final int RESEAL_PAGE = 200;

  private final DataSource ds;
  private final String table;
  private final String product;
  private final int schemaVersion;
  private final SecretCodec secrets;

  private JobTable(DataSource ds, String table, String product, int schemaVersion, SecretCodec secrets) {
    this.ds = ds;
    this.table = table;
    this.product = product;
    this.schemaVersion = schemaVersion;
    this.secrets = secrets;
  }

  /**
   * Migrates (when asked), refuses a schema newer than the known migrations, and reads every
   * unfinished row once so that a corrupt one fails here, at start, naming the row.
   */
  public static JobTable open(DataSource ds, String schema, String prefix, boolean migrate, SecretCodec secrets) {
    String product;
    try (Connection c = ds.getConnection()) {
      product = c.getMetaData().getDatabaseProductName();
    } catch (SQLException e) {
      throw new JdbcStoreException("cannot connect to the job store database: " + e.getMessage(), e);
    }
    String history = prefix + "schema_history";
    var cfg = Flyway.configure(JobTable.class.getClassLoader())
        .dataSource(ds)
        .locations(MIGRATIONS)
        .table(history)
        .placeholders(Map.of("prefix", prefix))
        // An applied version we do not know must stop us (checked below, with a clear message),
        // not be ignored as Flyway's default "*:future" would.
        .ignoreMigrationPatterns(new String[0])
        // The host's schema may hold its own tables: start our history at 0 there, so V1 still runs.
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .baselineDescription("accel-dispatch baseline")
        .cleanDisabled(true);
    if (schema != null) {
      cfg.schemas(schema).defaultSchema(schema).createSchemas(true);
    }
    Flyway flyway = cfg.load();
    String where = (schema == null ? "" : "schema " + schema + ", ") + "history table " + history;
    int known = 0;
    for (MigrationInfo mi : flyway.info().all()) {
      if (mi.getVersion() != null && mi.getState() != null && !mi.getState().name().startsWith("FUTURE")) {
        known = Math.max(known, Integer.parseInt(mi.getVersion().getVersion()));
      }
    }
    for (MigrationInfo mi : flyway.info().applied()) {
      if (mi.getState() == MigrationState.FUTURE_SUCCESS || mi.getState() == MigrationState.FUTURE_FAILED) {
        throw new JdbcStoreException(
            "the job store database (" + where + ") is at schema version " + mi.getVersion()
                + " (\"" + mi.getDescription() + "\"), newer than the versions this accel-dispatch-jdbc-store knows"
                + " (up to " + known + "): it was migrated by a newer release. Refusing to start rather than"
                + " misread its rows; run the newer release or restore a matching backup.");
      }
    }
    if (migrate) {
      try {
        MigrateResult r = flyway.migrate();
        if (r.migrationsExecuted > 0) {
          log.info("job store: applied {} migration(s) ({}), schema now at version {}", r.migrationsExecuted, where, r.targetSchemaVersion);
        }
      } catch (RuntimeException e) {
        throw new JdbcStoreException("migrating the job store database (" + where + ") failed: " + e.getMessage(), e);
      }
    }
    MigrationInfo current = flyway.info().current();
    int version = current == null || current.getVersion() == null ? 0 : Integer.parseInt(current.getVersion().getVersion());
    if (version != known) {
      throw new JdbcStoreException(
          "the job store database (" + where + ") is at schema version " + version + " but this library needs "
              + known + (migrate ? "" : "; build the store with migrate(true) or apply the migrations in " + MIGRATIONS));
    }
    String qualified = (schema == null ? "" : "\"" + schema + "\".") + prefix + "jobs";
    JobTable t = new JobTable(ds, qualified, product, version, secrets);
    t.checkUnfinishedRows();
    return t;
  }

  /** The qualified table name. */
  public String qualifiedName() {
    return table;
  }

  /** The database product, as the driver names it. */
  public String databaseProduct() {
    return product;
  }

  /** The schema version. */
  public int schemaVersion() {
    return schemaVersion;
  }

  private void checkUnfinishedRows() {
    List<String> problems = new ArrayList<>();
    List<String> sealedShut = new ArrayList<>();
    List<String> inClear = new ArrayList<>();
    int ok = 0;
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT " + COLUMNS + " FROM " + table + " WHERE terminal = FALSE ORDER BY submitted_at, id")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          try {
            JobRecord r = read(rs);
            if (JobJson.hasClearValues(rs.getString("spec"))) {
              inClear.add(r.id());
            }
            r.spec().workload().secretEnv().forEach((name, secret) -> {
              if (secret.kind() == dev.acceldispatch.Secret.Kind.UNAVAILABLE) {
                sealedShut.add(r.id() + " (" + name + ")");
              }
            });
            ok++;
          } catch (JdbcStoreException e) {
            problems.add(e.getMessage());
          }
        }
      }
    } catch (SQLException e) {
      throw sql("reading the unfinished jobs", e);
    }
    if (!problems.isEmpty()) {
      throw new JdbcStoreException(
          problems.size() + " unfinished job row(s) in " + table + " cannot be read, so they would be lost;"
              + " refusing to start. Repair or remove them: " + String.join("; ", problems));
    }
    if (!inClear.isEmpty() && !secrets.canSeal() && !secrets.clearAllowed()) {
      // Their next update would be refused (values are never written in clear without the opt-in),
      // so the dispatcher could not carry them on: say so now, with the way out.
      throw new JdbcStoreException(inClear.size() + " unfinished job(s) in " + table + " keep secret values in clear"
          + " (stored by an earlier release or under storeSecretsInClear()): " + inClear + ". Build the store with"
          + " secretKeys(...) and call reencryptSecrets() to encrypt them, or opt in with storeSecretsInClear()");
    }
    if (!inClear.isEmpty() && secrets.canSeal()) {
      log.warn("job store {}: {} unfinished job(s) keep secret values in clear: {}; call reencryptSecrets() to encrypt them now",
          table, inClear.size(), inClear);
    }
    if (!sealedShut.isEmpty()) {
      // Not a reason to refuse to start: a job that is running needs no value, and the others fail
      // with the reason when launched. Names jobs, variables and (through the keys) nothing secret.
      log.warn("job store {}: {} unfinished job(s) hold secret values this store cannot decrypt with {}: {};"
          + " each fails if it must be launched, unless the store is restarted with the key that encrypted it",
          table, sealedShut.size(), secrets, sealedShut);
    }
    log.info("job store {} on {} ready: schema version {}, {} unfinished jobs", table, product, schemaVersion, ok);
  }

  // ---- statements ---------------------------------------------------------------------------------

  /** The columns that insert and update both write from a record, in {@link #bindContent}'s order. */
  private static final List<String> CONTENT_COLUMNS = List.of(
      "name", "tenant", "priority", "submitted_at", "updated_at", "preemptions", "message", "exit_code",
      "result_attributes", "spec", "attempts");

  /** Binds {@link #CONTENT_COLUMNS} from {@code r} from parameter {@code i} on; returns the next index. */
  private int bindContent(PreparedStatement ps, int i, JobRecord r) throws SQLException {
    ps.setString(i++, r.spec().name());
    ps.setString(i++, r.spec().tenant());
    ps.setInt(i++, r.spec().priority());
    setTime(ps, i++, r.submittedAt());
    setTime(ps, i++, r.updatedAt());
    ps.setInt(i++, r.preemptions());
    ps.setString(i++, r.message());
    setInteger(ps, i++, r.exitCode());
    ps.setString(i++, JobJson.writeMap(r.resultAttributes()));
    ps.setString(i++, JobJson.writeSpec(r.spec(), r.id(), secrets));
    ps.setString(i++, JobJson.writeAttempts(r.attempts()));
    return i;
  }

  /** Inserts at version 0, leased when {@code owner} is not null. */
  public void insert(JobRecord job, String owner, Instant leaseUntil) {
    JobRecord r = job.withVersion(0);
    String sql = "INSERT INTO " + table
        + " (id, state, terminal, version, " + String.join(", ", CONTENT_COLUMNS) + ", lease_owner, lease_until, cancel_requested)"
        + " VALUES (?, ?, ?, 0, " + "?, ".repeat(CONTENT_COLUMNS.size()) + "?, ?, FALSE)";
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setString(i++, r.id());
      ps.setString(i++, r.state().name());
      ps.setBoolean(i++, r.state().isTerminal());
      i = bindContent(ps, i, r);
      ps.setString(i++, owner);
      setTime(ps, i, leaseUntil);
      ps.executeUpdate();
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        throw new IllegalStateException("job " + r.id() + " already exists");
      }
      throw sql("inserting job " + r.id(), e);
    }
  }

  /** Replaces the row if it is still at {@code job.version()}. */
  public JobRecord update(JobRecord job) {
    String sql = "UPDATE " + table
        + " SET state = ?, terminal = ?, version = ?, " + String.join(" = ?, ", CONTENT_COLUMNS) + " = ?"
        + " WHERE id = ? AND version = ?";
    try (Connection c = ds.getConnection()) {
      int n;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = 1;
        ps.setString(i++, job.state().name());
        ps.setBoolean(i++, job.state().isTerminal());
        ps.setLong(i++, job.version() + 1);
        i = bindContent(ps, i, job);
        ps.setString(i++, job.id());
        ps.setLong(i, job.version());
        n = ps.executeUpdate();
      }
      if (n == 1) {
        return job.withVersion(job.version() + 1);
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT version FROM " + table + " WHERE id = ?")) {
        ps.setString(1, job.id());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new IllegalStateException("job " + job.id() + " does not exist");
          }
          throw new StaleJobException(job.id(), job.version(), rs.getLong(1));
        }
      }
    } catch (SQLException e) {
      throw sql("updating job " + job.id(), e);
    }
  }

  /** The job, if stored. */
  public Optional<JobRecord> find(String jobId) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + table + " WHERE id = ?")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw sql("reading job " + jobId, e);
    }
  }

  /** Unfinished jobs, oldest first. */
  public List<JobRecord> unfinished() {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT " + COLUMNS + " FROM " + table + " WHERE terminal = FALSE ORDER BY submitted_at, id")) {
      return readAll(ps);
    } catch (SQLException e) {
      throw sql("reading the unfinished jobs", e);
    }
  }

  /** Leases up to {@code max} free unfinished jobs to {@code owner}, in one transaction. */
  public List<JobRecord> acquireLeases(String owner, Instant now, Instant until, int max) {
    String pick = "SELECT id FROM " + table
        + " WHERE terminal = FALSE AND (lease_owner IS NULL OR lease_until < ?)"
        + " ORDER BY submitted_at, id LIMIT ? FOR UPDATE SKIP LOCKED";
    // Re-checked on the row itself, so that even a database that ignored SKIP LOCKED could not
    // hand one job to two owners.
    String take = "UPDATE " + table + " SET lease_owner = ?, lease_until = ?"
        + " WHERE id = ? AND terminal = FALSE AND (lease_owner IS NULL OR lease_until < ?)";
    try (Connection c = ds.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(pick)) {
          setTime(ps, 1, now);
          ps.setInt(2, max);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getString(1));
            }
          }
        }
        List<JobRecord> out = new ArrayList<>();
        try (PreparedStatement up = c.prepareStatement(take);
            PreparedStatement sel = c.prepareStatement("SELECT " + COLUMNS + " FROM " + table + " WHERE id = ?")) {
          for (String id : ids) {
            up.setString(1, owner);
            setTime(up, 2, until);
            up.setString(3, id);
            setTime(up, 4, now);
            if (up.executeUpdate() == 1) {
              sel.setString(1, id);
              try (ResultSet rs = sel.executeQuery()) {
                if (rs.next()) {
                  out.add(read(rs));
                }
              }
            }
          }
        }
        c.commit();
        return out;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw sql("acquiring leases for " + owner, e);
    }
  }

  /** Extends {@code owner}'s leases; returns the unfinished jobs it still holds. */
  public Set<String> renewLeases(String owner, Instant until) {
    try (Connection c = ds.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE " + table + " SET lease_until = ? WHERE lease_owner = ? AND terminal = FALSE")) {
          setTime(ps, 1, until);
          ps.setString(2, owner);
          ps.executeUpdate();
        }
        Set<String> held = ids(c, "SELECT id FROM " + table
            + " WHERE lease_owner = ? AND terminal = FALSE ORDER BY submitted_at, id", owner);
        c.commit();
        return held;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw sql("renewing the leases of " + owner, e);
    }
  }

  /** Drops {@code owner}'s lease of one job. */
  public void releaseLease(String owner, String jobId) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE " + table + " SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?")) {
      ps.setString(1, jobId);
      ps.setString(2, owner);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw sql("releasing the lease of job " + jobId, e);
    }
  }

  /** Flags an unfinished job for cancellation. */
  public boolean requestCancel(String jobId) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE " + table + " SET cancel_requested = TRUE WHERE id = ? AND terminal = FALSE")) {
      ps.setString(1, jobId);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw sql("requesting the cancellation of job " + jobId, e);
    }
  }

  /** The unfinished jobs leased to {@code owner} with a cancellation request. */
  public Set<String> cancelRequests(String owner) {
    try (Connection c = ds.getConnection()) {
      return ids(c, "SELECT id FROM " + table
          + " WHERE lease_owner = ? AND cancel_requested = TRUE AND terminal = FALSE ORDER BY submitted_at, id", owner);
    } catch (SQLException e) {
      throw sql("reading the cancellation requests of " + owner, e);
    }
  }

  /**
   * Re-seals every row's literal secret values with the current key (values sealed with an older
   * key, or kept in clear by an earlier release or the opt-in). The row's version is left alone:
   * the spec means the same, so a dispatcher holding the row is not made stale. A row updated
   * meanwhile is read again (its writer sealed it with its own current key). Returns how many
   * rows were rewritten; rows whose values cannot be opened are left as they are and logged.
   */
  public int resealSecrets() {
    if (!secrets.canSeal()) {
      throw new IllegalStateException("reencryptSecrets needs a key ring: build the store with secretKeys(...)");
    }
    int rewritten = 0;
    List<String> unreadable = new ArrayList<>();
    String page = "SELECT id, version, spec FROM " + table + " WHERE id > ? ORDER BY id LIMIT " + RESEAL_PAGE;
    String write = "UPDATE " + table + " SET spec = ? WHERE id = ? AND version = ?";
    try (Connection c = ds.getConnection();
        PreparedStatement sel = c.prepareStatement(page);
        PreparedStatement up = c.prepareStatement(write)) {
      String after = "";
      List<String[]> rows = new ArrayList<>();
      while (true) {
        rows.clear();
        sel.setString(1, after);
        try (ResultSet rs = sel.executeQuery()) {
          while (rs.next()) {
            rows.add(new String[] {rs.getString(1), Long.toString(rs.getLong(2)), rs.getString(3)});
          }
        }
        if (rows.isEmpty()) {
          break;
        }
        for (String[] row : rows) {
          rewritten += resealRow(c, up, row[0], Long.parseLong(row[1]), row[2], unreadable);
        }
        after = rows.get(rows.size() - 1)[0];
      }
    } catch (SQLException e) {
      throw sql("re-encrypting the secret values", e);
    }
    if (!unreadable.isEmpty()) {
      log.warn("job store {}: re-encryption left {} job(s) as they were, their values cannot be decrypted with {}: {}",
          table, unreadable.size(), secrets, unreadable);
    }
    log.info("job store {}: re-encrypted the secret values of {} job(s) with key '{}'", table, rewritten, secrets.currentKeyId());
    return rewritten;
  }

  private int resealRow(Connection c, PreparedStatement up, String id, long version, String spec, List<String> unreadable)
      throws SQLException {
    for (int tries = 0; tries < 5; tries++) {
      String resealed;
      try {
        resealed = JobJson.resealSpec(spec, id, secrets, reason -> unreadable.add(reason));
      } catch (JobJson.CorruptJsonException e) {
        unreadable.add("job " + id + ": " + e.getMessage());
        return 0;
      }
      if (resealed == null) {
        return 0;
      }
      up.setString(1, resealed);
      up.setString(2, id);
      up.setLong(3, version);
      if (up.executeUpdate() == 1) {
        return 1;
      }
      // Updated meanwhile: read it again.
      try (PreparedStatement ps = c.prepareStatement("SELECT version, spec FROM " + table + " WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return 0;
          }
          version = rs.getLong(1);
          spec = rs.getString(2);
        }
      }
    }
    unreadable.add("job " + id + ": updated concurrently five times in a row; run reencryptSecrets again");
    return 0;
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private static Set<String> ids(Connection c, String sql, String param) throws SQLException {
    Set<String> out = new LinkedHashSet<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, param);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /**
   * One page of {@code query}, newest first. State, tenant, time and position are filtered in SQL
   * (keyset paging on {@code submitted_at, id}); labels live in the spec's JSON, so rows are read in
   * batches and the labels checked here until the page is full or the rows run out.
   */
  public List<JobRecord> query(JobQuery query) {
    List<JobRecord> out = new ArrayList<>();
    JobQuery.Position from = query.after().orElse(null);
    int batch = query.labels().isEmpty() ? query.limit() : Math.max(query.limit(), 200);
    try (Connection c = ds.getConnection()) {
      while (out.size() < query.limit()) {
        List<Object> params = new ArrayList<>();
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        if (!query.states().isEmpty()) {
          where.append(" AND state IN (").append(String.join(", ", java.util.Collections.nCopies(query.states().size(), "?"))).append(')');
          query.states().forEach(s -> params.add(s.name()));
        }
        query.tenant().ifPresent(t -> {
          where.append(" AND tenant = ?");
          params.add(t);
        });
        query.submittedFrom().ifPresent(t -> {
          where.append(" AND submitted_at >= ?");
          params.add(t);
        });
        query.submittedBefore().ifPresent(t -> {
          where.append(" AND submitted_at < ?");
          params.add(t);
        });
        if (from != null) {
          where.append(" AND (submitted_at < ? OR (submitted_at = ? AND id < ?))");
          params.add(from.submittedAt());
          params.add(from.submittedAt());
          params.add(from.jobId());
        }
        String sql = "SELECT " + COLUMNS + " FROM " + table + where + " ORDER BY submitted_at DESC, id DESC LIMIT " + batch;
        List<JobRecord> rows;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          for (int i = 0; i < params.size(); i++) {
            if (params.get(i) instanceof Instant t) {
              setTime(ps, i + 1, t);
            } else {
              ps.setString(i + 1, (String) params.get(i));
            }
          }
          rows = readAll(ps);
        }
        for (JobRecord r : rows) {
          if (out.size() < query.limit()
              && query.matches(r.id(), r.state(), r.submittedAt(), r.spec().tenant(), r.spec().labels())) {
            out.add(r);
          }
        }
        if (rows.size() < batch) {
          break;
        }
        JobRecord last = rows.get(rows.size() - 1);
        from = new JobQuery.Position(last.submittedAt(), last.id());
      }
      return out;
    } catch (SQLException e) {
      throw sql("querying jobs", e);
    }
  }

  private List<JobRecord> readAll(PreparedStatement ps) throws SQLException {
    List<JobRecord> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(read(rs));
      }
    }
    return out;
  }

  /** One row; a row that cannot be read is a {@link JdbcStoreException} naming the row and field. */
  private JobRecord read(ResultSet rs) throws SQLException {
    String id = rs.getString("id");
    String column = "state";
    try {
      String stateName = rs.getString("state");
      JobState state;
      try {
        state = JobState.valueOf(stateName);
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new JobJson.CorruptJsonException("unknown job state '" + stateName + "'");
      }
      column = "spec";
      var spec = JobJson.readSpec(rs.getString("spec"), id, secrets);
      column = "attempts";
      var attempts = JobJson.readAttempts(rs.getString("attempts"));
      column = "result_attributes";
      var attrs = JobJson.readMap(rs.getString("result_attributes"), "result_attributes");
      column = "exit_code, submitted_at or updated_at";
      int exit = rs.getInt("exit_code");
      Integer exitCode = rs.wasNull() ? null : exit;
      return new JobRecord(
          id, spec, state, rs.getLong("version"), getTime(rs, "submitted_at"), getTime(rs, "updated_at"),
          attempts, rs.getInt("preemptions"), rs.getString("message"), exitCode, attrs);
    } catch (JobJson.CorruptJsonException e) {
      throw new JdbcStoreException("job row '" + id + "' in " + table + " is corrupt (column " + column + "): " + e.getMessage());
    } catch (RuntimeException e) {
      throw new JdbcStoreException("job row '" + id + "' in " + table + " is corrupt (column " + column + "): "
          + e.getClass().getSimpleName());
    }
  }

  private static void setTime(PreparedStatement ps, int i, Instant t) throws SQLException {
    if (t == null) {
      ps.setNull(i, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
    } else {
      ps.setObject(i, OffsetDateTime.ofInstant(t.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
    }
  }

  private static Instant getTime(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private static void setInteger(PreparedStatement ps, int i, Integer v) throws SQLException {
    if (v == null) {
      ps.setNull(i, java.sql.Types.INTEGER);
    } else {
      ps.setInt(i, v);
    }
  }

  private JdbcStoreException sql(String what, SQLException e) {
    // SQLState and the driver's message (statements use parameters, so no values appear in it).
    return new JdbcStoreException(what + " in " + table + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
  }

}
