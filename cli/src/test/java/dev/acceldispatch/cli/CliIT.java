package dev.acceldispatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.testkit.Await;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tool as a person runs it: the built jar, as a process, with a fresh home folder (embedded H2 and the local provider). */
class CliIT {
  private static final Duration POLL = Duration.ofMillis(200);
  private final Jar jar = new Jar();

  @AfterEach
  void cleanUp() {
    jar.close();
  }

  @Test
  void help_everyCommand_printsUsageAndExitsZero() {
    for (String cmd : new String[] {"run", "submit", "serve", "status", "list", "logs", "cancel", "plan", "cost", "schema"}) {
      Jar.Result r = jar.run(cmd, "--help");
      assertThat(r.exitCode()).as(cmd).isZero();
      assertThat(r.out()).as(cmd).startsWith("Usage: accel-dispatch " + cmd);
    }
    assertThat(jar.run("--help").out()).contains("Exit codes:").contains("130");
  }

  @Test
  void run_helloExampleOnAFreshHome_printsItsOutputAndExitsZero() {
    Jar.Result r = jar.run("run", Jar.EXAMPLES.resolve("hello.yaml").toAbsolutePath().toString());

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("hello from job j").contains("attempt 1").contains("greeting: bonjour");
    assertThat(r.err()).contains("SUCCEEDED");
    assertThat(jar.home.resolve(".accel-dispatch/jobs.mv.db")).exists();
  }

  @Test
  void run_failingWorkload_exitsWithTheWorkloadsExitCodeAndStatusShowsIt() {
    jar.write("fail.yaml", "name: fail\naccelerators: [{type: cpu}]\nscript: |\n  echo to-stderr >&2\n  exit 7\n");

    Jar.Result r = jar.run("run", "fail.yaml");

    assertThat(r.exitCode()).as(r.err()).isEqualTo(7);
    assertThat(r.err()).contains("to-stderr").contains("FAILED");
    String id = jar.run("list", "--state", "failed", "-o", "json").out().replaceAll("(?s).*\"id\" : \"(j[a-z0-9]+)\".*", "$1");
    Jar.Result status = jar.run("status", id);
    assertThat(status.out()).contains("state:      FAILED").contains("exit code:  7");
    Jar.Result logs = jar.run("logs", id);
    assertThat(logs.err()).contains("to-stderr");
  }

  @Test
  void run_invalidJobFile_exitsWithInvalidInputNamingTheLineAndNoStackTrace() {
    jar.write("bad.yaml", "name: bad\naccelerators:\n  - type: nvidia-h200\nscript: env\n");

    Jar.Result r = jar.run("run", "bad.yaml");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).startsWith("accel-dispatch: bad.yaml:3: accelerators.0.type: unknown accelerator type 'nvidia-h200'")
        .doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void unknownOptionOrJob_exitsWithItsCodeAndOneLine() {
    Jar.Result option = jar.run("list", "--colour");
    Jar.Result missing = jar.run("status", "jnosuchjob0000");

    assertThat(option.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(option.err()).contains("Unknown option: '--colour'").doesNotContain("\tat ");
    assertThat(missing.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(missing.err().strip()).isEqualTo("accel-dispatch: no job jnosuchjob0000 in the store");
  }

  @Test
  void config_fromEnvironmentVariableWithATypo_isRefusedNamingTheSetting() {
    jar.write("conf.yaml", "store:\n  jdbcURL: jdbc:h2:mem:x\n");
    jar.env(CliConfig.ENV_CONFIG, jar.home.resolve("conf.yaml").toString());

    Jar.Result r = jar.run("list");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).contains("unknown setting 'store.jdbcURL'; allowed: h2, jdbcUrl");
  }

  @Test
  void planAndCostAndCompletion_printTheirTables() {
    Jar.Result plan = jar.run("plan", Jar.EXAMPLES.resolve("hello.yaml").toAbsolutePath().toString());
    assertThat(plan.exitCode()).as(plan.err()).isZero();
    assertThat(plan.out()).startsWith("RANK").contains("local/").contains("/cpu");

    assertThat(jar.run("run", "-q", Jar.EXAMPLES.resolve("hello.yaml").toAbsolutePath().toString()).exitCode()).isZero();
    Jar.Result cost = jar.run("cost", "--since", "1h", "--jobs");
    assertThat(cost.out()).contains("TENANT").contains("default").contains("total").contains("hello");

    Jar.Result completion = jar.run(Duration.ofSeconds(60), "generate-completion");
    assertThat(completion.exitCode()).isZero();
    assertThat(completion.out()).contains("complete -F").contains("accel-dispatch");
  }

  @Test
  void run_cancelledFromAnotherProcess_exitsWithTheCancelledCode() throws Exception {
    jar.write("conf.yaml", "leaseDuration: 3s\npollInterval: 1s\n");
    jar.env(CliConfig.ENV_CONFIG, jar.home.resolve("conf.yaml").toString());
    jar.write("long.yaml", "name: long\naccelerators: [{type: cpu}]\nscript: |\n  echo started\n  sleep 120\n");
    Process run = jar.start("run", "long.yaml");
    String id = Await.until("the run's job id", Duration.ofSeconds(60), POLL, () -> {
      var m = java.util.regex.Pattern.compile("submitted (j[a-z0-9]+)").matcher(jar.err(run));
      return m.find() && jar.out(run).contains("started") ? m.group(1) : null;
    });

    Jar.Result cancel = jar.run("cancel", id);

    assertThat(cancel.exitCode()).as(cancel.err()).isZero();
    assertThat(run.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as(jar.err(run)).isTrue();
    assertThat(run.exitValue()).as(jar.err(run)).isEqualTo(ExitCodes.CANCELLED);
    assertThat(jar.run("status", id).out()).contains("state:      CANCELLED");
  }
}
