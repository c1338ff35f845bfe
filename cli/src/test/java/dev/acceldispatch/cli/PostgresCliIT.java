package dev.acceldispatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import dev.acceldispatch.testkit.Await;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The two-terminal story on a shared PostgreSQL store: a {@code serve} process runs the jobs, and
 * other processes {@code submit}, {@code list}, {@code status}, {@code logs --follow} and {@code
 * cancel}. Each test uses a schema of its own and drops it afterwards.
 */
class PostgresCliIT {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final String URL = System.getProperty("accel.dispatch.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
  private static final String USER = System.getProperty("accel.dispatch.pg.user", "postgres");

  private final Jar jar = new Jar();
  private final String schema = "cli_it_" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);

  @AfterEach
  void cleanUp() throws Exception {
    try {
      jar.close();
    } finally {
      try (Connection c = DriverManager.getConnection(URL, USER, "");
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  private void configure() {
    jar.write("pg.yaml", "store:\n  jdbcUrl: " + URL + "\n  user: " + USER + "\n  schema: " + schema
        + "\nleaseDuration: 3s\npollInterval: 1s\n");
    jar.env(CliConfig.ENV_CONFIG, jar.home.resolve("pg.yaml").toString());
  }

  @Test
  void serveOnPostgres_submitListStatusFollowLogsAndCancelFromOtherProcesses() throws Exception {
    configure();
    Process serve = jar.start("serve");
    Await.until("serve ready", Duration.ofSeconds(60), POLL, () -> jar.err(serve).contains("serving fleet") ? true : null);
    jar.write("ticks.yaml", "name: ticks\naccelerators: [{type: cpu}]\ntenant: research\nlabels: {team: nlp}\n"
        + "script: |\n  i=0\n  while [ $i -lt 600 ]; do i=$((i+1)); echo \"tick $i\"; sleep 0.2; done\n");

    Jar.Result submit = jar.run("submit", "ticks.yaml");
    assertThat(submit.exitCode()).as(submit.err()).isZero();
    String id = submit.out().strip();
    assertThat(id).matches("j[a-z0-9]{12}");

    Await.until("RUNNING in status", Duration.ofSeconds(60), POLL,
        () -> jar.run("status", id).out().contains("state:      RUNNING") ? true : null);
    Jar.Result list = jar.run("list", "--tenant", "research", "--label", "team=nlp", "--state", "running");
    assertThat(list.out()).contains(id).contains("ticks").contains("RUNNING");
    assertThat(jar.run("list", "--tenant", "prod").out()).doesNotContain(id);

    Process follow = jar.start("logs", "--follow", id);
    Await.until("tick 5 followed", Duration.ofSeconds(60), POLL, () -> jar.out(follow).contains("tick 5\n") ? true : null);
    assertThat(follow.isAlive()).isTrue();

    Jar.Result cancel = jar.run("cancel", id, "--wait", "60s");
    assertThat(cancel.exitCode()).as(cancel.err()).isZero();
    assertThat(cancel.err()).contains("is CANCELLED");

    assertThat(follow.waitFor(30, TimeUnit.SECONDS)).as("logs --follow ends with the job").isTrue();
    assertThat(follow.exitValue()).isZero();
    String followed = jar.out(follow);
    assertThat(followed).startsWith("tick 1\ntick 2\ntick 3\n");
    assertThat(jar.run("status", id, "-o", "json").out()).contains("\"state\" : \"CANCELLED\"");
    assertThat(jar.run("list", "--state", "cancelled").out()).contains(id);

    serve.destroy();
    assertThat(serve.waitFor(60, TimeUnit.SECONDS)).as(jar.err(serve)).isTrue();
    assertThat(jar.err(serve)).contains("stopping");
  }

  @Test
  void submitWithoutServe_staysQueuedUntilAServeStartsAndRunsIt() throws Exception {
    configure();
    jar.write("quick.yaml", "name: quick\naccelerators: [{type: cpu}]\nscript: echo done-quickly\n");
    String id = jar.run("submit", "quick.yaml").out().strip();
    assertThat(jar.run("status", id).out()).contains("state:      QUEUED");

    Process serve = jar.start("serve");

    Await.until("SUCCEEDED", Duration.ofSeconds(90), POLL, () -> jar.run("status", id).out().contains("SUCCEEDED") ? true : null);
    assertThat(jar.run("logs", id).out()).isEqualTo("done-quickly\n");
    serve.destroy();
    assertThat(serve.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

}
