package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.local.LocalProvider;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.StartupScript;
import dev.acceldispatch.testkit.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets at rest, with real jobs: a dispatcher on this store runs jobs on the local provider whose
 * processes check, byte for byte, the secret values they were given. Afterwards every column of
 * every table of the store's schema is scanned for the values; dispatchers are restarted with the
 * right key, a wrong key and no key; keys are rotated. Run on H2 and on PostgreSQL.
 */
abstract class SecretsAtRestTest {
  /** Hostile on purpose: quotes, a newline, a backslash, non-ASCII, shell syntax. */
  static final String TOKEN = "tok-\"q\" 'x' \\ $(touch pwned) ü 😀\nline2";
  static final String PASSWORD = "correct horse battery staple 7f3a91";
  static final String FILE_VALUE = "file-secret-0c9d44 ✓\n";

  @TempDir Path tmp;
  Databases.Fresh db;
  DataSource ds;
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A fresh database for one test. */
  abstract Databases.Fresh freshDatabase();

  /** The schema the store's tables live in (scanned whole), or null for the connection's default. */
  String schema() {
    return db.schema;
  }

  @BeforeEach
  void open() {
    db = freshDatabase();
    ds = db.ds;
  }

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    db.close();
  }

  JdbcJobStore.Builder builder() {
    JdbcJobStore.Builder b = JdbcJobStore.builder(ds);
    return schema() == null ? b : b.schema(schema());
  }

  JdbcJobStore store(SecretKeyRing keys) {
    JdbcJobStore s = keys == null ? builder().build() : builder().secretKeys(keys).build();
    open.add(s);
    return s;
  }

  LocalProvider local() {
    return LocalProvider.builder(tmp.resolve("local-state"))
        .logDirectory(tmp.resolve("local-logs"))
        .hostName("testhost")
        .nvidiaSmi(tmp.resolve("no-such-nvidia-smi").toString())
        .cpuSlots(4)
        .terminationGrace(Duration.ofSeconds(2))
        .helperTimeout(Duration.ofSeconds(10))
        .build();
  }

  Dispatcher dispatcher(JdbcJobStore store) {
    Dispatcher d = Dispatcher.builder()
        .provider(local())
        .store(store)
        .fleetId("secrets-test")
        .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200))
        .build();
    open.add(d);
    return d;
  }

  Path secretFile() {
    Path f = tmp.resolve("dispatcher-secret");
    try {
      Files.writeString(f, FILE_VALUE, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return f;
  }

  /**
   * A job whose process exits 0 only when every secret reached it byte for byte: it compares each
   * variable with a file holding the expected bytes (outside the database), so that the job's own
   * script holds no value.
   */
  JobSpec checkingSpec() {
    String check = same("TOKEN", TOKEN, 11) + same("PASSWORD", PASSWORD, 12) + same("FROM_FILE", FILE_VALUE, 13) + "exit 0\n";
    return JobSpec.builder("secret check")
        .script(check)
        .secretEnv("TOKEN", Secret.of(TOKEN))
        .secretEnv("PASSWORD", Secret.of(PASSWORD))
        .secretEnv("FROM_FILE", Secret.fromDispatcherFile(secretFile()))
        .accelerators(Shapes.cpu())
        .build();
  }

  /** Shell that exits {@code code} unless {@code $variable} is exactly {@code expected}. */
  String same(String variable, String expected, int code) {
    Path f = tmp.resolve("expected-" + variable);
    try {
      Files.writeString(f, expected, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return "printf '%s' \"$" + variable + "\" | cmp -s - " + StartupScript.quote(f.toString()) + " || exit " + code + "\n";
  }

  static JobRecord queued(String id, JobSpec spec) {
    return inState(id, spec, JobState.QUEUED);
  }

  static JobRecord inState(String id, JobSpec spec, JobState state) {
    Instant now = Instant.now();
    return new JobRecord(id, spec, state, 0, now, now, List.of(), 0, state.name().toLowerCase(), null, Map.of());
  }

  static JobRecord awaitEnd(JdbcJobStore store, String id) {
    return Await.until("job " + id + " to end", Duration.ofSeconds(60), Duration.ofMillis(50),
        () -> store.find(id).filter(r -> r.state().isTerminal()).orElse(null));
  }

  /** Every value that must never be at rest, with the encodings a careless writer might use. */
  static List<String> forbidden() {
    List<String> out = new ArrayList<>();
    for (String v : List.of(TOKEN, PASSWORD, FILE_VALUE.strip())) {
      out.add(v);
      out.add(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)));
    }
    out.add("correct horse");
    out.add("file-secret-0c9d44");
    out.add("tok-\\\"q\\\"");
    return out;
  }

  /** Every cell of every table of the store's schema, as text, with where it was found. */
  List<String> everyCell() throws SQLException {
    List<String> cells = new ArrayList<>();
    try (Connection c = ds.getConnection()) {
      DatabaseMetaData md = c.getMetaData();
      String schema = schema() == null ? c.getSchema() : schema();
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = md.getTables(null, schema, "%", new String[] {"TABLE"})) {
        while (rs.next()) {
          tables.add(rs.getString("TABLE_NAME"));
        }
      }
      assertThat(tables).as("tables of schema " + schema).contains("accel_jobs", "accel_schema_history");
      for (String t : tables) {
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT * FROM \"" + schema + "\".\"" + t + "\"")) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= n; i++) {
              String v = rs.getString(i);
              if (v != null) {
                cells.add(t + "." + rs.getMetaData().getColumnName(i) + "=" + v);
              }
            }
          }
        }
      }
    }
    return cells;
  }

  void assertNoValueAtRest() throws SQLException {
    List<String> cells = everyCell();
    assertThat(cells).as("cells scanned").isNotEmpty();
    for (String value : forbidden()) {
      assertThat(cells).as("cells holding a secret value").noneMatch(cell -> cell.contains(value));
    }
  }

  String specColumn(String id) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT spec FROM " + (schema() == null ? "" : "\"" + schema() + "\".")
            + "accel_jobs WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  // ---- tests --------------------------------------------------------------------------------------

  @Test
  void run_withLiteralAndReferenceSecrets_succeedsAndNoColumnOfAnyTableHoldsAValue() throws Exception {
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    PrintStream err = System.err;
    JobRecord end;
    // slf4j-simple writes to whatever System.err is at the time: every log line of the run lands here.
    System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
    try {
      JdbcJobStore store = store(Databases.KEYS);
      JobHandle job = dispatcher(store).submit(checkingSpec());
      job.result().get(60, TimeUnit.SECONDS);
      end = awaitEnd(store, job.id());
    } finally {
      System.setErr(err);
    }

    assertThat(end.state()).as("the process saw every value byte for byte: " + end.message()).isEqualTo(JobState.SUCCEEDED);
    assertThat(end.exitCode()).isZero();
    assertNoValueAtRest();
    String logText = logs.toString(StandardCharsets.UTF_8);
    assertThat(logText).as("the run logged").contains(end.id());
    for (String value : forbidden()) {
      assertThat(logText).as("log lines").doesNotContain(value);
    }
    assertThat(end.toString()).doesNotContain(TOKEN).doesNotContain(PASSWORD);
    // The reference is stored as a reference; the file's content is not.
    assertThat(specColumn(end.id())).contains("DISPATCHER_FILE").contains(secretFile().toString())
        .contains("\"keyId\":\"" + Databases.KEYS.currentKeyId() + "\"");
  }

  @Test
  void restart_withTheRightKey_resumesTheJobWithByteExactSecrets() throws Exception {
    store(Databases.KEYS).insert(queued("jresume1", checkingSpec()));
    assertNoValueAtRest();

    // A new store and dispatcher on the same database, as after a restart of the host.
    JdbcJobStore restarted = store(SecretKeyRing.builder()
        .current("next", SecretKeyRing.newKey())
        .previous(Databases.KEYS.currentKeyId(), Databases.KEY_BYTES)
        .build());
    dispatcher(restarted);

    JobRecord end = awaitEnd(restarted, "jresume1");
    assertThat(end.state()).as(end.message()).isEqualTo(JobState.SUCCEEDED);
    assertNoValueAtRest();
  }

  /**
   * Stores a job with the test key, restarts a dispatcher on a store with {@code ring} (null: none),
   * and returns why the job failed, checked to hold no value.
   */
  String failureAfterRestartWith(SecretKeyRing ring, String id) throws SQLException {
    store(Databases.KEYS).insert(queued(id, checkingSpec()));
    JdbcJobStore restarted = store(ring);
    dispatcher(restarted);

    JobRecord end = awaitEnd(restarted, id);
    assertThat(end.state()).isEqualTo(JobState.FAILED);
    String why = end.message() + " | " + end.attempts();
    for (String value : forbidden()) {
      assertThat(why).doesNotContain(value);
    }
    assertNoValueAtRest();
    return why;
  }

  @Test
  void restart_withAWrongKey_failsThatJobNamingTheKeyAndLeaksNothing() throws Exception {
    // The same key id, other bytes: a host that mixed up its keys.
    String why = failureAfterRestartWith(SecretKeyRing.of(Databases.KEYS.currentKeyId(), SecretKeyRing.newKey()), "jwrongkey");

    assertThat(why).contains("TOKEN").contains("does not decrypt with key '" + Databases.KEYS.currentKeyId() + "'");
    // The ciphertext is kept: the right key still opens it.
    assertThat(store(Databases.KEYS).find("jwrongkey").orElseThrow().spec().workload().secretEnv().get("TOKEN").reveal())
        .isEqualTo(TOKEN);
  }

  @Test
  void restart_withoutAnyKey_failsThatJobSayingHowToSupplyTheKey() throws Exception {
    String why = failureAfterRestartWith(null, "jnokey");

    assertThat(why).contains("built without secretKeys(...)").contains("'" + Databases.KEYS.currentKeyId() + "'");
  }

  @Test
  void submit_literalSecretsWithoutAKey_isRefusedBeforeAnythingStartsSayingHowToFixIt() throws Exception {
    Dispatcher d = dispatcher(store(null));

    assertThatThrownBy(() -> d.submit(checkingSpec()))
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("[TOKEN, PASSWORD]")
        .hasMessageContaining("secretKeys(SecretKeyRing.of(keyId, key))")
        .hasMessageContaining("Secret.fromDispatcherEnv")
        .hasMessageContaining("storeSecretsInClear()")
        .hasMessageNotContaining(TOKEN)
        .hasMessageNotContaining(PASSWORD);
    assertThat(everyCell()).noneMatch(cell -> cell.startsWith("accel_jobs."));
    assertThat(local().listOwned("secrets-test")).isEmpty();
  }

  @Test
  void submit_onlyReferencesWithoutAKey_isAcceptedAndStoresTheReferencesOnly() throws Exception {
    JdbcJobStore store = store(null);
    Dispatcher d = dispatcher(store);
    JobSpec.Builder refs = JobSpec.builder("refs only")
        .script(same("FROM_FILE", FILE_VALUE, 13))
        .secretEnv("FROM_FILE", Secret.fromDispatcherFile(secretFile()))
        .accelerators(Shapes.cpu());
    // The local machine has no Secret Manager identity, and says so (SecretDelivery): a job with
    // such a reference is refused at submit, naming the reference, and never stored.
    assertThatThrownBy(() -> d.submit(refs.build().toBuilder()
        .secretEnv("IN_GSM", Secret.googleSecretManager("projects/p/secrets/never-resolved-here")).build()))
        .isInstanceOf(NoFeasibleOfferException.class)
        .hasMessageContaining("IN_GSM")
        .hasMessageContaining("Google Secret Manager 'projects/p/secrets/never-resolved-here/versions/latest'");

    JobHandle job = d.submit(refs.build());

    JobRecord end = awaitEnd(store, job.id());
    assertThat(end.state()).isEqualTo(JobState.SUCCEEDED);
    assertNoValueAtRest();
  }

  @Test
  void run_unresolvableDispatcherReference_failsNamingTheReference() {
    JdbcJobStore store = store(Databases.KEYS);
    JobHandle job = dispatcher(store).submit(JobSpec.builder("missing ref")
        .script("exit 0")
        .secretEnv("HF_TOKEN", Secret.fromDispatcherEnv("ACCEL_DISPATCH_TEST_NEVER_SET_4f1c"))
        .secretEnv("KEY_FILE", Secret.fromDispatcherFile(tmp.resolve("no-such-file")))
        .accelerators(Shapes.cpu())
        .build());

    JobRecord end = awaitEnd(store, job.id());
    assertThat(end.state()).isEqualTo(JobState.FAILED);
    assertThat(end.attempts()).hasSize(1);
    assertThat(end.attempts().get(0).detail())
        .contains("HF_TOKEN")
        .contains("dispatcher environment variable 'ACCEL_DISPATCH_TEST_NEVER_SET_4f1c'")
        .contains("not set");
  }

  @Test
  void reencryptSecrets_afterRotation_resealsEveryRowSoTheOldKeyCanLeave() throws Exception {
    SecretKeyRing oldRing = Databases.KEYS;
    JdbcJobStore before = store(oldRing);
    before.insert(queued("jrot1", checkingSpec()));
    before.insert(inState("jrot2", checkingSpec(), JobState.SUCCEEDED));

    byte[] newKey = SecretKeyRing.newKey();
    JdbcJobStore rotated = store(SecretKeyRing.builder()
        .current("rotated-2", newKey)
        .previous(oldRing.currentKeyId(), Databases.KEY_BYTES)
        .build());
    long versionBefore = rotated.find("jrot1").orElseThrow().version();

    assertThat(rotated.reencryptSecrets()).isEqualTo(2);
    assertThat(rotated.reencryptSecrets()).as("nothing left to do").isZero();

    assertThat(specColumn("jrot1")).contains("\"keyId\":\"rotated-2\"").doesNotContain("\"keyId\":\"" + oldRing.currentKeyId() + "\"");
    assertThat(rotated.find("jrot1").orElseThrow().version()).as("a holder of the row is not made stale").isEqualTo(versionBefore);
    JdbcJobStore newOnly = store(SecretKeyRing.of("rotated-2", newKey));
    for (String id : List.of("jrot1", "jrot2")) {
      var secrets = newOnly.find(id).orElseThrow().spec().workload().secretEnv();
      assertThat(secrets.get("TOKEN").reveal()).isEqualTo(TOKEN);
      assertThat(secrets.get("PASSWORD").reveal()).isEqualTo(PASSWORD);
    }
    assertNoValueAtRest();
  }

  @Test
  void storeSecretsInClear_optIn_keepsValuesInClearUntilAKeyReencryptsThem() throws Exception {
    JdbcJobStore clear = builder().storeSecretsInClear().build();
    open.add(clear);
    clear.insert(queued("jclear", checkingSpec()));
    assertThat(specColumn("jclear")).contains("\"clear\":\"" + PASSWORD + "\"");

    JdbcJobStore keyed = store(Databases.KEYS);
    assertThat(keyed.reencryptSecrets()).isEqualTo(1);
    assertNoValueAtRest();
    assertThat(keyed.find("jclear").orElseThrow().spec().workload().secretEnv().get("TOKEN").reveal()).isEqualTo(TOKEN);
  }

  @Test
  void build_unfinishedJobsKeptInClearWithoutKeyOrOptIn_isRefusedSayingHowToEncryptThem() {
    JdbcJobStore clear = builder().storeSecretsInClear().build();
    open.add(clear);
    clear.insert(queued("jlegacy", checkingSpec()));

    assertThatThrownBy(() -> builder().build())
        .isInstanceOf(JdbcStoreException.class)
        .hasMessageContaining("[jlegacy]")
        .hasMessageContaining("secretKeys(...) and call reencryptSecrets()")
        .hasMessageNotContaining(PASSWORD);

    store(Databases.KEYS).reencryptSecrets();
    // Once encrypted, a store without the key starts; the job would fail only if launched.
    assertThat(store(null).find("jlegacy").orElseThrow().spec().workload().secretEnv().get("TOKEN").kind())
        .isEqualTo(Secret.Kind.UNAVAILABLE);
  }

  @Test
  void sealedValue_movedToAnotherJobRow_doesNotDecrypt() throws Exception {
    JdbcJobStore store = store(Databases.KEYS);
    store.insert(queued("jsource", checkingSpec()));
    store.insert(queued("jtarget", checkingSpec().toBuilder().secretEnv("TOKEN", Secret.of("harmless")).build()));
    String table = store.tableName();
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET spec = (SELECT spec FROM " + table
            + " WHERE id = 'jsource') WHERE id = 'jtarget'")) {
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }

    Secret moved = store(Databases.KEYS).find("jtarget").orElseThrow().spec().workload().secretEnv().get("TOKEN");
    assertThat(moved.kind()).isEqualTo(Secret.Kind.UNAVAILABLE);
    assertThatThrownBy(moved::reveal).hasMessageContaining("job jtarget").hasMessageContaining("moved from another job")
        .hasMessageNotContaining(TOKEN);
  }
}
