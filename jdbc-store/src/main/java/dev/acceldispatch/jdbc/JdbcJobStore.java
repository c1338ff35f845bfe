package dev.acceldispatch.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import dev.acceldispatch.spi.LeasingJobStore;
import dev.acceldispatch.spi.StaleJobException;
import dev.acceldispatch.jdbc.internal.JobTable;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * A durable {@link JobStore} on JDBC: PostgreSQL for one or several dispatcher instances, H2 (an
 * embedded file database) as the durable default for a single instance.
 *
 * <pre>{@code
 * JobStore store = JdbcJobStore.h2File(Path.of("/var/lib/myservice/jobs"));   // embedded
 * JobStore shared = JdbcJobStore.create(hostDataSource);                      // PostgreSQL
 * Dispatcher d = Dispatcher.builder().store(store).provider(...).build();
 * }</pre>
 *
 * <p><b>Schema.</b> Building the store applies the versioned migrations in {@code
 * db/acceldispatch} (Flyway, history table {@code <prefix>schema_history}) unless {@link
 * Builder#migrate(boolean) migrate(false)}, then checks the database: a schema version newer than
 * this library knows, or an unfinished job whose row cannot be read, fails the build with a {@link
 * JdbcStoreException} naming the version or the row, so that nothing is silently skipped. One
 * table, {@code <prefix>jobs} (default prefix {@code accel_}), optionally in a schema of its own
 * ({@link Builder#schema}): a row per job with its state, version, tenant, priority, times, lease
 * columns and the spec, attempts and result attributes as JSON text. Times are kept to the
 * microsecond (what PostgreSQL keeps); finer instants are truncated.
 *
 * <p><b>Concurrency.</b> Every update is {@code UPDATE ... WHERE id = ? AND version = ?}; zero rows
 * is a {@link StaleJobException}, so two racing writers never lose an update. Leases (it is a {@link
 * LeasingJobStore}) live in the same rows: {@link #acquireLeases} selects candidate rows
 * with {@code FOR UPDATE SKIP LOCKED} and takes each with an update that re-checks that no live
 * lease holds it, so a job is never handed to two owners. On PostgreSQL, concurrent acquirers skip
 * each other's rows; H2 also accepts {@code SKIP LOCKED}, but it is an embedded, single-process
 * database, so several dispatchers share a store only on PostgreSQL.
 *
 * <p><b>Secrets.</b> A secret given as a reference ({@link dev.acceldispatch.Secret#fromDispatcherEnv},
 * {@link dev.acceldispatch.Secret#fromDispatcherFile}, {@link
 * dev.acceldispatch.Secret#googleSecretManager}, {@link dev.acceldispatch.Secret#azureKeyVault}) is
 * stored as the reference only. A literal value ({@link dev.acceldispatch.Secret#of}) is stored only
 * encrypted, with the host's {@link SecretKeyRing} ({@link Builder#secretKeys}): AES-256-GCM, a
 * random nonce per value, the job id and variable name as associated data (a value moved to
 * another row or variable does not decrypt), the key id beside the ciphertext. Without a key ring
 * a job with literal values is refused when it is inserted, that is at {@code submit()}, before
 * anything is created in any cloud, unless the host opted in to clear storage with {@link
 * Builder#storeSecretsInClear()}. After a key rotation (a new current key, the old one kept as
 * {@link SecretKeyRing.Builder#previous previous}), {@link #reencryptSecrets()} re-seals every row.
 * A value whose key is missing or wrong is read as {@link
 * dev.acceldispatch.Secret#unavailable unavailable}: the store still starts (a running job needs
 * no value), and the job fails, naming the key, only if it must be launched again; its ciphertext
 * is kept, so a restart with the right key recovers it. No column, log line or exception message of
 * this store holds a value.
 *
 * <p>Thread-safe. {@link #close()} closes the connection pool only when the store created it
 * ({@link #h2File}); a host's {@link DataSource} is the host's to close.
 */
public final class JdbcJobStore implements LeasingJobStore, AutoCloseable {
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,30}");

  private final JobTable table;
  private final HikariDataSource ownedPool;

  private JdbcJobStore(JobTable table, HikariDataSource ownedPool) {
    this.table = table;
    this.ownedPool = ownedPool;
  }

  /** A store on the host's {@link DataSource} (PostgreSQL or H2), with the default settings. */
  public static JdbcJobStore create(DataSource dataSource) {
    return builder(dataSource).build();
  }

  /**
   * The embedded durable default: an H2 database in the file {@code file + ".mv.db"}, created when
   * missing, with a small connection pool the store owns and closes. H2 runs in PostgreSQL mode and
   * writes every commit to the file before it returns ({@code WRITE_DELAY=0}), so a killed process
   * loses nothing it was told was stored; a row lock is waited for up to 10 s ({@code
   * LOCK_TIMEOUT}). One process at a time may open the file.
   */
  public static JdbcJobStore h2File(Path file) {
    return h2FileBuilder(file).build();
  }

  /**
   * A builder for the embedded durable default of {@link #h2File}, for setting a key ring or other
   * options; the pool is created (and owned by the store) when {@link Builder#build()} runs.
   */
  public static Builder h2FileBuilder(Path file) {
    Objects.requireNonNull(file, "file");
    return new Builder(null, file);
  }

  private static HikariDataSource h2Pool(Path file) {
    String name = file.toAbsolutePath().toString();
    if (name.endsWith(".mv.db")) {
      name = name.substring(0, name.length() - ".mv.db".length());
    }
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(h2FileUrl(name));
    cfg.setUsername("sa");
    cfg.setPassword("");
    cfg.setMaximumPoolSize(4);
    cfg.setMinimumIdle(1);
    cfg.setPoolName("accel-dispatch-h2");
    return new HikariDataSource(cfg);
  }

  /** The JDBC URL {@link #h2File} opens for the base name {@code fileBase}. */
  public static String h2FileUrl(String fileBase) {
    return "jdbc:h2:file:" + fileBase
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0;LOCK_TIMEOUT=10000";
  }

  /** A builder for a store on the host's {@link DataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(Objects.requireNonNull(dataSource, "dataSource"), null);
  }

  /** The table holding the jobs, qualified by its schema when one was set. */
  public String tableName() {
    return table.qualifiedName();
  }

  /** The schema version the database is at (the highest applied migration). */
  public int schemaVersion() {
    return table.schemaVersion();
  }

  /**
   * Re-encrypts every stored literal secret value with the key ring's current key: values sealed
   * with an older key, and values kept in clear (by an earlier release, or under {@link
   * Builder#storeSecretsInClear()}). Run it after a rotation, once every dispatcher sharing the
   * store runs with the new ring; afterwards the old key may leave the ring. Rows whose values
   * cannot be decrypted with this ring are left as they are and logged (job ids and key ids).
   * Copies made before (backups, replicas, the database's own old row versions) still hold what
   * they held.
   *
   * @return how many job rows were rewritten
   * @throws IllegalStateException when the store has no key ring
   */
  public int reencryptSecrets() {
    return table.resealSecrets();
  }

  @Override
  public void insert(JobRecord job) {
    table.insert(job, null, null);
  }

  @Override
  public JobRecord update(JobRecord job) {
    return table.update(job);
  }

  @Override
  public Optional<JobRecord> find(String jobId) {
    return table.find(jobId);
  }

  @Override
  public List<JobRecord> unfinished() {
    return table.unfinished();
  }

  @Override
  public List<JobRecord> query(JobQuery query) {
    return table.query(Objects.requireNonNull(query, "query"));
  }

  /** True: jobs survive a restart of the process. */
  @Override
  public boolean isDurable() {
    return true;
  }

  @Override
  public void insertLeased(JobRecord job, String owner, Instant leaseUntil) {
    table.insert(job, Objects.requireNonNull(owner, "owner"), Objects.requireNonNull(leaseUntil, "leaseUntil"));
  }

  @Override
  public List<JobRecord> acquireLeases(String owner, Instant now, Duration duration, int max) {
    Objects.requireNonNull(owner, "owner");
    if (max <= 0) {
      return List.of();
    }
    return table.acquireLeases(owner, now, now.plus(duration), max);
  }

  @Override
  public Set<String> renewLeases(String owner, Instant now, Duration duration) {
    return table.renewLeases(Objects.requireNonNull(owner, "owner"), now.plus(duration));
  }

  @Override
  public void releaseLease(String owner, String jobId) {
    table.releaseLease(owner, jobId);
  }

  @Override
  public boolean requestCancel(String jobId) {
    return table.requestCancel(jobId);
  }

  @Override
  public Set<String> cancelRequests(String owner) {
    return table.cancelRequests(owner);
  }

  /** Closes the connection pool if the store created it ({@link #h2File}); otherwise does nothing. */
  @Override
  public void close() {
    if (ownedPool != null) {
      ownedPool.close();
    }
  }

  @Override
  public String toString() {
    return "JdbcJobStore{" + table.qualifiedName() + " on " + table.databaseProduct() + "}";
  }

  /** Builds a {@link JdbcJobStore}; {@link #build()} migrates and checks the database. */
  public static final class Builder {
    private final DataSource dataSource;
    private final Path h2File;
    private String schema;
    private String tablePrefix = "accel_";
    private boolean migrate = true;
    private SecretKeyRing secretKeys;
    private boolean secretsInClear;

    private Builder(DataSource dataSource, Path h2File) {
      this.dataSource = dataSource;
      this.h2File = h2File;
    }

    /**
     * The keys literal secret values are encrypted with (see {@link SecretKeyRing}). Without
     * them, a job with literal secret values is refused at {@code submit()}, unless {@link
     * #storeSecretsInClear()}.
     */
    public Builder secretKeys(SecretKeyRing keys) {
      this.secretKeys = Objects.requireNonNull(keys, "secretKeys");
      return this;
    }

    /**
     * Opts in to storing literal secret values in clear when no {@link #secretKeys key ring} is
     * given: whoever can read the table, a replica or a backup then reads every value. For
     * development databases only; never the default. Ignored when a key ring is given.
     */
    public Builder storeSecretsInClear() {
      this.secretsInClear = true;
      return this;
    }

    /**
     * Keeps the tables in this schema (created when missing), instead of the connection's default
     * one: lowercase letters, digits and {@code _}, at most 31.
     */
    public Builder schema(String schema) {
      this.schema = checkIdentifier("schema", schema);
      return this;
    }

    /**
     * Starts every table name with this prefix (default {@code accel_}): lowercase letters,
     * digits and {@code _}, at most 31; may be empty.
     */
    public Builder tablePrefix(String prefix) {
      Objects.requireNonNull(prefix, "tablePrefix");
      this.tablePrefix = prefix.isEmpty() ? prefix : checkIdentifier("tablePrefix", prefix);
      return this;
    }

    /**
     * Whether {@link #build()} applies pending migrations (default true). When false, the schema
     * must already be at the version this library expects, which {@link #build()} checks.
     */
    public Builder migrate(boolean migrate) {
      this.migrate = migrate;
      return this;
    }

    /**
     * Migrates (unless told not to), checks the schema version and every unfinished row, and
     * returns the store.
     *
     * @throws JdbcStoreException when the schema is newer than this library, a migration fails, or
     *     a row cannot be read; the message names the version or the row
     */
    public JdbcJobStore build() {
      KeyRingCodec secrets = new KeyRingCodec(secretKeys, secretsInClear);
      if (h2File == null) {
        return new JdbcJobStore(JobTable.open(dataSource, schema, tablePrefix, migrate, secrets), null);
      }
      HikariDataSource pool = h2Pool(h2File);
      try {
        return new JdbcJobStore(JobTable.open(pool, schema, tablePrefix, migrate, secrets), pool);
      } catch (RuntimeException e) {
        pool.close();
        throw e;
      }
    }

    private static String checkIdentifier(String field, String value) {
      if (value == null || !IDENTIFIER.matcher(value).matches()) {
        throw new IllegalArgumentException(
            field + " must be 1 to 31 of [a-z0-9_] starting with a letter or '_', got '" + value + "'");
      }
      return value;
    }
  }
}
