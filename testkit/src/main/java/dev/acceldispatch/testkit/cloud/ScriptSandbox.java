package dev.acceldispatch.testkit.cloud;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a provider's real startup script with {@code /bin/sh}, the way the cloud machine would, but
 * with fake {@code docker} (and any other command an emulator fakes, such as {@code curl}) first
 * on the {@code PATH}. The fake {@code docker} records the exact argument vector and environment
 * it received and exits with the planned exit code, which is how emulators prove that hostile
 * workload strings arrive byte for byte and execute nothing else.
 *
 * <p>Script workloads ({@code /bin/sh -c ...}) really run: keep test scripts harmless.
 */
public final class ScriptSandbox {
  /** What one run showed. */
  public record Result(
      int exitCode, String stdout, String stderr, List<String> dockerArgv, Map<String, String> dockerEnv,
      Path directory) {
    /** Whether the fake docker ran. */
    public boolean dockerRan() {
      return dockerArgv != null;
    }

    /** A file the script (or a fake command) wrote in the sandbox directory, if any. */
    public String file(String name) {
      try {
        Path p = directory.resolve(name);
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : null;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private final Map<String, String> fakes = new LinkedHashMap<>();
  private Duration timeout = Duration.ofSeconds(30);

  /** A sandbox with only the fake {@code docker}. */
  public ScriptSandbox() {}

  /**
   * Adds a fake command: a POSIX shell body run with the fake's arguments; {@code $SANDBOX} is the
   * sandbox directory, where it may write what it saw.
   */
  public ScriptSandbox fake(String command, String shellBody) {
    fakes.put(command, shellBody);
    return this;
  }

  /** The longest a script may run; default 30 s. */
  public ScriptSandbox timeout(Duration d) {
    this.timeout = d;
    return this;
  }

  /**
   * Runs {@code script}; the fake docker exits with {@code containerExitCode}.
   *
   * @throws IllegalStateException when it runs past the timeout
   */
  public Result run(String script, int containerExitCode) {
    try {
      Path dir = Files.createTempDirectory("accel-sandbox");
      Path bin = Files.createDirectories(dir.resolve("bin"));
      writeExecutable(
          bin.resolve("docker"),
          "#!/bin/sh\n"
              + "printf '%s\\0' \"$@\" > \"$SANDBOX/docker.argv\"\n"
              + "env -0 > \"$SANDBOX/docker.env\"\n"
              + "exit " + containerExitCode + "\n");
      for (var f : fakes.entrySet()) {
        writeExecutable(bin.resolve(f.getKey()), "#!/bin/sh\n" + f.getValue() + "\n");
      }
      Path scriptFile = dir.resolve("startup.sh");
      Files.writeString(scriptFile, script, StandardCharsets.UTF_8);
      ProcessBuilder pb = new ProcessBuilder("/bin/sh", scriptFile.toString());
      pb.directory(dir.toFile());
      Map<String, String> env = pb.environment();
      env.clear();
      env.put("PATH", bin + ":/usr/bin:/bin");
      env.put("SANDBOX", dir.toString());
      env.put("HOME", dir.toString());
      env.put("LANG", "C.UTF-8");
      // A machine's startup script has no input: a command that reads stdin must see its end,
      // not wait on a pipe from this JVM.
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.redirectOutput(dir.resolve("stdout").toFile());
      pb.redirectError(dir.resolve("stderr").toFile());
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new IllegalStateException("startup script ran longer than " + timeout);
      }
      List<String> argv = null;
      Map<String, String> dockerEnv = null;
      Path argvFile = dir.resolve("docker.argv");
      if (Files.exists(argvFile)) {
        argv = splitNul(Files.readString(argvFile, StandardCharsets.UTF_8));
        dockerEnv = new LinkedHashMap<>();
        for (String kv : splitNul(Files.readString(dir.resolve("docker.env"), StandardCharsets.UTF_8))) {
          int eq = kv.indexOf('=');
          if (eq > 0) {
            dockerEnv.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
        }
      }
      return new Result(
          p.exitValue(), Files.readString(dir.resolve("stdout"), StandardCharsets.UTF_8),
          Files.readString(dir.resolve("stderr"), StandardCharsets.UTF_8), argv, dockerEnv, dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static List<String> splitNul(String s) {
    if (s.isEmpty()) {
      return List.of();
    }
    String body = s.endsWith("\0") ? s.substring(0, s.length() - 1) : s;
    return new ArrayList<>(Arrays.asList(body.split("\0", -1)));
  }

  private static void writeExecutable(Path p, String content) throws IOException {
    Files.writeString(p, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
