package dev.acceldispatch.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/** The test databases: the local PostgreSQL (which must be running) and H2. */
final class Databases {
  static final String PG_URL = System.getProperty("accel.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
  static final String PG_USER = System.getProperty("accel.pg.user", "postgres");

  /** The key of the stores under test; a fresh random one per test run. */
  static final byte[] KEY_BYTES = SecretKeyRing.newKey();
  /** The key ring of the stores under test. */
  static final SecretKeyRing KEYS = SecretKeyRing.of("test-key-1", KEY_BYTES);

  private Databases() {}

  /**
   * A pool on the local PostgreSQL. Fails (never skips) when the server is unreachable: start it
   * with {@code pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start}.
   */
  static HikariDataSource postgres(int poolSize) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(PG_URL);
    cfg.setUsername(PG_USER);
    cfg.setMaximumPoolSize(poolSize);
    cfg.setMinimumIdle(0);
    cfg.setConnectionTimeout(5000);
    cfg.setInitializationFailTimeout(5000);
    try {
      return new HikariDataSource(cfg);
    } catch (RuntimeException e) {
      throw new AssertionError("PostgreSQL at " + PG_URL + " (user " + PG_USER + ") is unreachable; these tests need it."
          + " Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", e);
    }
  }

  /** A fresh schema name for one test or class. */
  static String freshSchema() {
    return "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
  }

  static void dropSchema(DataSource ds, String schema) {
    exec(ds, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
  }

  /** A private in-memory H2 database, alive until {@link #shutdownH2}. */
  static JdbcDataSource h2Memory() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1");
    ds.setUser("sa");
    return ds;
  }

  static void shutdownH2(DataSource ds) {
    exec(ds, "SHUTDOWN");
  }

  /** One test's own database: an in-memory H2 database, or a fresh schema on the local PostgreSQL. */
  static final class Fresh implements AutoCloseable {
    final DataSource ds;
    /** Where the store keeps its tables, or null for the connection's default schema. */
    final String schema;
    private final Runnable drop;

    private Fresh(DataSource ds, String schema, Runnable drop) {
      this.ds = ds;
      this.schema = schema;
      this.drop = drop;
    }

    static Fresh h2() {
      JdbcDataSource ds = h2Memory();
      return new Fresh(ds, null, () -> shutdownH2(ds));
    }

    static Fresh postgres(int poolSize) {
      HikariDataSource pool = Databases.postgres(poolSize);
      String schema = freshSchema();
      return new Fresh(pool, schema, () -> {
        dropSchema(pool, schema);
        pool.close();
      });
    }

    @Override
    public void close() {
      drop.run();
    }
  }

  static void exec(DataSource ds, String sql) {
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }
}
