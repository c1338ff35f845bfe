package dev.acceldispatch.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the generated scripts with the real /bin/sh and a fake docker that records its argv. */
class StartupScriptTest {
  private static final List<String> HOSTILE =
      List.of("it's", "\"dq\"", "$(touch pwned1)", "`touch pwned2`", "a\nb", "ünï ✓ 日本", "; touch pwned3 #", "$HOME", "\\", "", "'", "*");

  @TempDir Path dir;

  private List<String> runAndReadArgv(String script) throws IOException, InterruptedException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path docker = bin.resolve("docker");
    Files.writeString(docker, "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$OUT/argv\"\nprintf '%s' \"$HOSTILE_ENV\" > \"$OUT/env\"\nexit 7\n");
    Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path file = dir.resolve("startup.sh");
    Files.writeString(file, script, StandardCharsets.UTF_8);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", file.toString()).directory(dir.toFile());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    pb.environment().put("OUT", dir.toString());
    Process p = pb.redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    String raw = Files.readString(dir.resolve("argv"), StandardCharsets.UTF_8);
    return Arrays.asList(raw.substring(0, raw.length() - 1).split("\0", -1));
  }

  @Test
  void container_hostileArgsAndEnv_reachDockerByteForByteAndRunNothingElse() throws Exception {
    Workload w = Workload.container("img:1", HOSTILE.toArray(String[]::new)).env("HOSTILE_ENV", "$(touch pwned4)'\"\n✓").build();
    String script = StartupScript.forWorkload(w).dockerArgs("--gpus", "all").exitReporter("printf '%s' \"$rc\" > \"$OUT/rc\"").build();
    List<String> argv = runAndReadArgv(script);
    assertThat(argv.subList(0, 6)).containsExactly("run", "--rm", "--gpus", "all", "-e", "HOSTILE_ENV");
    assertThat(argv.get(6)).isEqualTo("img:1");
    assertThat(argv.subList(7, argv.size())).containsExactlyElementsOf(HOSTILE);
    assertThat(Files.readString(dir.resolve("env"))).isEqualTo("$(touch pwned4)'\"\n✓");
    assertThat(Files.readString(dir.resolve("rc"))).isEqualTo("7");
    try (var files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("pwned"));
    }
  }

  @Test
  void script_textReachesShUnchanged() throws Exception {
    String body = "printf '%s' \"it's $((1+2)) `echo x`\" > \"$OUT/out\"; exit 4";
    String script = StartupScript.forWorkload(Workload.script(body).build()).exitReporter("printf '%s' \"$rc\" > \"$OUT/rc\"").build();
    Path file = dir.resolve("s.sh");
    Files.writeString(file, script);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", file.toString());
    pb.environment().put("OUT", dir.toString());
    Process p = pb.start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(dir.resolve("out"))).isEqualTo("it's 3 x");
    assertThat(Files.readString(dir.resolve("rc"))).isEqualTo("4");
  }

  @Test
  void secrets_withoutFetcher_areRefusedWithoutShowingTheValue() {
    Workload w = Workload.script("true").secretEnv("TOKEN", Secret.of("s3cr3t")).build();
    assertThatThrownBy(() -> StartupScript.forWorkload(w).build())
        .hasMessageContaining("TOKEN").hasMessageNotContaining("s3cr3t");
    String fetched = StartupScript.forWorkload(w).exitReporter("true")
        .secretFetcher(n -> "gcloud secrets versions access latest --secret=" + n).build();
    assertThat(fetched).contains("export TOKEN=\"$(gcloud secrets versions access latest --secret='TOKEN')\"").doesNotContain("s3cr3t");
    assertThat(StartupScript.forWorkload(w).exitReporter("true").secretsInClear().build()).contains("export TOKEN='s3cr3t'");
  }

  @Test
  void build_withoutExitReporter_isRefusedNamingTheSetting() {
    assertThatThrownBy(() -> StartupScript.forWorkload(Workload.script("true").build()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("exitReporter:");
  }

  @Test
  void quote_rejectsNul() {
    assertThatThrownBy(() -> StartupScript.quote("a\0b")).hasMessageContaining("NUL");
    assertThat(StartupScript.quote("it's")).isEqualTo("'it'\\''s'");
  }

  /** Runs {@code script} with {@code bin} first on PATH; returns its stderr. */
  private String run(String script, Path bin) throws Exception {
    Path file = dir.resolve("ref.sh");
    Files.writeString(file, script, StandardCharsets.UTF_8);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", file.toString()).directory(dir.toFile());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    pb.environment().put("OUT", dir.toString());
    pb.redirectError(dir.resolve("stderr").toFile());
    Process p = pb.start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return Files.readString(dir.resolve("stderr"), StandardCharsets.UTF_8);
  }

  private Path fakeCli(String name, String body) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path cli = bin.resolve(name);
    Files.writeString(cli, "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$OUT/" + name + ".argv\"\n" + body);
    Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
    return bin;
  }

  private List<String> argv(String name) throws IOException {
    String raw = Files.readString(dir.resolve(name + ".argv"), StandardCharsets.UTF_8);
    return Arrays.asList(raw.substring(0, raw.length() - 1).split("\0", -1));
  }

  /** The script for {@code w} on machines resolving {@code kind}, reporting its exit code to $OUT/rc. */
  private static String resolvingScript(Workload w, Secret.Kind kind) {
    return StartupScript.forWorkload(w).machineResolves(kind).exitReporter("printf '%s' \"$rc\" > \"$OUT/rc\"").build();
  }

  @Test
  void googleSecretManagerReference_machineResolves_fetchesWithGcloudAndTheWorkloadGetsTheValue() throws Exception {
    Path bin = fakeCli("gcloud", "printf '%s' \"v a'l\\\"ue \\$(x) ü\"\n");
    Workload w = Workload.script("printf '%s' \"$TOKEN\" > \"$OUT/token\"")
        .secretEnv("TOKEN", Secret.googleSecretManager("projects/my-proj/secrets/hf_token/versions/4"))
        .build();
    run(resolvingScript(w, Secret.Kind.GOOGLE_SECRET_MANAGER), bin);

    assertThat(argv("gcloud")).containsExactly("secrets", "versions", "access", "4", "--secret=hf_token", "--project=my-proj", "--quiet");
    assertThat(Files.readString(dir.resolve("token"), StandardCharsets.UTF_8)).isEqualTo("v a'l\"ue $(x) ü");
    assertThat(Files.readString(dir.resolve("rc"))).isEqualTo("0");
  }

  @Test
  void cloudReference_machineCannotReadIt_reportsExit78NamingTheReferenceAndRunsNothing() throws Exception {
    Path bin = fakeCli("az", "echo 'ERROR: Forbidden' >&2\nexit 1\n");
    Workload w = Workload.script("touch \"$OUT/ran\"")
        .secretEnv("DB_PASSWORD", Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/db-password"))
        .build();
    String stderr = run(resolvingScript(w, Secret.Kind.AZURE_KEY_VAULT), bin);

    assertThat(Files.readString(dir.resolve("rc"))).isEqualTo(Integer.toString(StartupScript.SECRET_UNRESOLVED_EXIT_CODE));
    assertThat(dir.resolve("ran")).doesNotExist();
    assertThat(stderr).contains("accel-dispatch: cannot resolve secret reference Azure Key Vault"
        + " 'https://ml-vault.vault.azure.net/secrets/db-password' for DB_PASSWORD");
    assertThat(argv("az")).containsExactly("login", "--identity", "--allow-no-subscriptions");
  }

  @Test
  void cloudReference_providerWithoutThatStore_isRefusedNamingVariableAndReference() {
    Workload w = Workload.script("true").secretEnv("K", Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/k")).build();
    assertThatThrownBy(() -> StartupScript.forWorkload(w).machineResolves(Secret.Kind.GOOGLE_SECRET_MANAGER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workload.secretEnv[K]")
        .hasMessageContaining("Azure Key Vault 'https://ml-vault.vault.azure.net/secrets/k'")
        .hasMessageContaining("they resolve [GOOGLE_SECRET_MANAGER]");
    assertThatThrownBy(() -> StartupScript.forWorkload(w).machineResolves(Secret.Kind.LITERAL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GOOGLE_SECRET_MANAGER or AZURE_KEY_VAULT");
  }

  @Test
  void dispatcherFileReference_inClear_isReadWhenBuiltAndAMissingOneIsRefusedByName() throws Exception {
    Path f = dir.resolve("token");
    Files.writeString(f, "from-file 'v'", StandardCharsets.UTF_8);
    Workload ok = Workload.script("true").secretEnv("T", Secret.fromDispatcherFile(f)).build();
    assertThat(StartupScript.forWorkload(ok).exitReporter("true").secretsInClear().build()).contains("export T='from-file '\\''v'\\'''");

    Workload missing = Workload.script("true").secretEnv("T", Secret.fromDispatcherFile(dir.resolve("gone"))).build();
    assertThatThrownBy(() -> StartupScript.forWorkload(missing).exitReporter("true").secretsInClear().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workload.secretEnv[T]")
        .hasMessageContaining("dispatcher file '" + dir.resolve("gone") + "'");
  }
}
