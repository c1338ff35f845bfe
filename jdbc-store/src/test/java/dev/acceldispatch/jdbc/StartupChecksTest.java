package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.spi.JobRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad data at start: a corrupt row or an unknown schema version is a clear error naming it, never
 * silent loss; and no message ever holds a secret value. Run on H2 and on PostgreSQL.
 */
abstract class StartupChecksTest {
  static final String SECRET = "hunter2-very-secret-value";
  static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  Databases.Fresh db;
  DataSource ds;

  /** A fresh database for one test. */
  abstract Databases.Fresh freshDatabase();

  /** Where the store keeps its tables, or null. */
  String schema() {
    return db.schema;
  }

  JdbcJobStore.Builder builder() {
    JdbcJobStore.Builder b = JdbcJobStore.builder(ds).secretKeys(Databases.KEYS);
    return schema() == null ? b : b.schema(schema());
  }

  String table(String name) {
    return (schema() == null ? "" : "\"" + schema() + "\".") + name;
  }

  @BeforeEach
  void open() {
    db = freshDatabase();
    ds = db.ds;
  }

  @AfterEach
  void close() {
    db.close();
  }

  static JobRecord job(String id, JobState state) {
    JobSpec spec = JobSpec.builder("job " + id).script("echo hi").secretEnv("TOKEN", Secret.of(SECRET))
        .accelerators(Shapes.tpuV5e(8)).build();
    return new JobRecord(id, spec, state, 0, T0, T0, List.of(), 0, "", null, Map.of());
  }

  void sql(String sql, Object... params) {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  String specOf(String id) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT spec FROM " + table("accel_jobs") + " WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void build_truncatedSpecJsonInAnUnfinishedRow_failsNamingTheRowWithoutTheSecret() {
    builder().build().insert(job("good", JobState.QUEUED));
    builder().build().insert(job("bad", JobState.RUNNING));
    String spec = specOf("bad");
    assertThat(spec).doesNotContain(SECRET).contains("aesGcm");
    sql("UPDATE " + table("accel_jobs") + " SET spec = ? WHERE id = ?", spec.substring(0, spec.indexOf("aesGcm") + 12), "bad");

    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("'bad'")
        .hasMessageContaining("column spec")
        .hasMessageContaining("malformed JSON")
        .hasMessageNotContaining("'good'")
        .hasMessageNotContaining(SECRET.substring(0, 10))
        .hasMessageContaining("refusing to start");
  }

  @Test
  void build_unknownStateAndBadAttempt_failsListingEveryCorruptRow() {
    JdbcJobStore store = builder().build();
    store.insert(job("r1", JobState.QUEUED));
    store.insert(job("r2", JobState.QUEUED));
    sql("UPDATE " + table("accel_jobs") + " SET state = 'EXPLODED' WHERE id = ?", "r1");
    sql("UPDATE " + table("accel_jobs") + " SET attempts = ? WHERE id = ?", "[{\"number\": \"one\"}]", "r2");

    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("2 unfinished job row(s)")
        .hasMessageContaining("'r1'")
        .hasMessageContaining("unknown job state 'EXPLODED'")
        .hasMessageContaining("'r2'")
        .hasMessageContaining("column attempts")
        .hasMessageContaining("attempts[0]");
  }

  @Test
  void find_corruptFinishedRow_throwsNamingTheRowInsteadOfReturningNothing() {
    JdbcJobStore store = builder().build();
    store.insert(job("old", JobState.SUCCEEDED));
    sql("UPDATE " + table("accel_jobs") + " SET spec = ? WHERE id = ?", "{\"format\": 1}", "old");

    JdbcJobStore reopened = builder().build();
    assertThatThrownBy(() -> reopened.find("old"))
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("'old'")
        .hasMessageContaining("spec.name: missing");
  }

  @Test
  void build_specFormatFromTheFuture_failsNamingTheFormat() {
    JdbcJobStore store = builder().build();
    store.insert(job("f", JobState.QUEUED));
    sql("UPDATE " + table("accel_jobs") + " SET spec = ? WHERE id = ?", specOf("f").replace("\"format\":2", "\"format\":3"), "f");

    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("'f'")
        .hasMessageContaining("spec.format is 3");
  }

  @Test
  void build_schemaVersionNewerThanTheLibrary_failsNamingTheVersion() {
    builder().build().insert(job("keep", JobState.QUEUED));
    sql("INSERT INTO " + table("accel_schema_history")
            + " (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)"
            + " VALUES (2, '2', 'added by a newer release', 'SQL', 'V2__newer.sql', 12345, 'test', 1, TRUE)");

    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("schema version 2")
        .hasMessageContaining("added by a newer release")
        .hasMessageContaining("up to 1")
        .hasMessageContaining("Refusing to start");
    assertThatThrownBy(() -> builder().migrate(false).build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("schema version 2");
  }

  @Test
  void build_withoutMigrationOnAnEmptyDatabase_failsSayingWhatToDo() {
    assertThatThrownBy(() -> builder().migrate(false).build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("schema version 0 but this library needs 1")
        .hasMessageContaining("migrate(true)");
  }

  @Test
  void build_twice_migratesOnceAndKeepsTheJobs() {
    JdbcJobStore first = builder().build();
    first.insert(job("a", JobState.RUNNING));

    JdbcJobStore second = builder().migrate(false).build();

    assertThat(second.schemaVersion()).isEqualTo(1);
    assertThat(second.find("a")).contains(job("a", JobState.RUNNING));
    assertThat(second.find("a").orElseThrow().spec().workload().secretEnv().get("TOKEN").reveal()).isEqualTo(SECRET);
  }

  @Test
  void tablePrefix_twoStoresInOneSchema_areIndependent() {
    JdbcJobStore one = builder().tablePrefix("one_").build();
    JdbcJobStore two = builder().tablePrefix("two_").build();

    one.insert(job("x", JobState.QUEUED));

    assertThat(one.unfinished()).hasSize(1);
    assertThat(two.unfinished()).isEmpty();
    assertThat(one.tableName()).endsWith("one_jobs");
    assertThat(two.find("x")).isEmpty();
  }

  @Test
  void update_staleVersion_messageNamesTheJobButNoSecret() {
    JdbcJobStore store = builder().build();
    store.insert(job("s", JobState.QUEUED));
    store.update(job("s", JobState.RUNNING));

    assertThatThrownBy(() -> store.update(job("s", JobState.FAILED)))
        .hasMessageContaining("job s")
        .hasMessageNotContaining(SECRET);
    assertThat(store.toString()).doesNotContain(SECRET);
  }

  @Test
  void builder_badIdentifiers_areRejectedNamingTheField() {
    assertThatThrownBy(() -> JdbcJobStore.builder(ds).schema("Robert'); DROP TABLE x;--"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("schema");
    assertThatThrownBy(() -> JdbcJobStore.builder(ds).tablePrefix("a-b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tablePrefix");
  }
}
