package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.JobSpec;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Secret;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.spi.JobRecord;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

class SecretsSampleTest {

  @Test
  void readmeSnippet_literalValueStoredEncrypted_andReadBackByteExact() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + UUID.randomUUID()
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1");
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) 7);
    String password = "pa55-" + UUID.randomUUID();
    SecretsSample.Example example = SecretsSample.example(ds, key, password);
    JobSpec spec = example.spec();
    Instant now = Instant.parse("2026-12-01T00:00:00Z");

    try (JdbcJobStore store = example.store()) {
      store.insert(new JobRecord("job-1", spec, JobState.QUEUED, 0, now, now, List.of(), 0, "", null, Map.of()));

      Map<String, Secret> back = store.find("job-1").orElseThrow().spec().workload().secretEnv();
      assertThat(back.get("DB_PASSWORD").reveal()).isEqualTo(password);
      assertThat(back.get("HF_TOKEN").kind()).isEqualTo(Secret.Kind.GOOGLE_SECRET_MANAGER);
      assertThat(back.get("WANDB_KEY").kind()).isEqualTo(Secret.Kind.DISPATCHER_ENV);
    }
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM accel_jobs")) {
      int rows = 0;
      while (rs.next()) {
        rows++;
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          String value = rs.getString(i);
          assertThat(value == null ? "" : value).as("column %s", rs.getMetaData().getColumnName(i))
              .doesNotContain(password);
        }
      }
      assertThat(rows).isEqualTo(1);
      st.execute("SHUTDOWN");
    }
  }
}
