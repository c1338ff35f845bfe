package dev.acceldispatch.testkit.cloud;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
  /**
   * What one run showed. Everything the script and the fakes wrote is read into memory when the run
   * ends and the run's directory is then deleted, so a run leaves nothing in the temp directory
   * whoever runs it and whether or not anyone closes anything.
   *
   * @param exitCode the script's exit status
   * @param stdout what it printed
   * @param stderr what it printed on standard error
   * @param dockerArgv the fake docker's argument vector, or null when it did not run
   * @param dockerEnv the fake docker's environment, or null when it did not run
   * @param directory where it ran; deleted once the run ended (kept for messages)
   * @param files every file the run left, by path relative to {@code directory} with {@code /}
   *     separators (the sandbox's own {@code bin/} fakes and the script excluded)
   */
  public record Result(
      int exitCode, String stdout, String stderr, List<String> dockerArgv, Map<String, String> dockerEnv,
      Path directory, Map<String, String> files) {
    /** Copies the maps. */
    public Result {
      dockerArgv = dockerArgv == null ? null : List.copyOf(dockerArgv);
      dockerEnv = dockerEnv == null ? null : Map.copyOf(dockerEnv);
      files = Map.copyOf(files);
    }

    /** Whether the fake docker ran. */
    public boolean dockerRan() {
      return dockerArgv != null;
    }

    /** A file the script (or a fake command) wrote in the sandbox directory, or null. */
    public String file(String name) {
      return files.get(name);
    }

    /** The files the run left under {@code prefix/}, by path relative to it. */
    public Map<String, String> filesUnder(String prefix) {
      String p = prefix.endsWith("/") ? prefix : prefix + "/";
      Map<String, String> out = new TreeMap<>();
      files.forEach((k, v) -> {
        if (k.startsWith(p)) {
          out.put(k.substring(p.length()), v);
        }
      });
      return out;
    }
  }

  private final Map<String, String> fakes = new LinkedHashMap<>();
  private Duration timeout = Duration.ofSeconds(30);
  private Path root;

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

  /** Where run directories are made; default the system temp directory. */
  public ScriptSandbox root(Path directory) {
    this.root = directory;
    return this;
  }

  /**
   * Runs {@code script}; the fake docker exits with {@code containerExitCode}.
   *
   * @throws IllegalStateException when it runs past the timeout
   */
  public Result run(String script, int containerExitCode) {
    Path dir;
    try {
      dir = root == null ? Files.createTempDirectory("accel-sandbox") : Files.createTempDirectory(root, "accel-sandbox");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return runIn(dir, script, containerExitCode);
    } finally {
      deleteTree(dir);
    }
  }

  private Result runIn(Path dir, String script, int containerExitCode) {
    try {
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
        p.waitFor(5, TimeUnit.SECONDS);
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
          Files.readString(dir.resolve("stderr"), StandardCharsets.UTF_8), argv, dockerEnv, dir, snapshot(dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Every file the run left (not the fakes, not the script), read as UTF-8 text. */
  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path f : paths.filter(Files::isRegularFile).toList()) {
        String rel = dir.relativize(f).toString().replace('\\', '/');
        if (!rel.startsWith("bin/") && !rel.equals("startup.sh")) {
          out.put(rel, new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
        }
      }
    }
    return out;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A file still being written by a process the script left behind; say so rather than hide it.
      throw new UncheckedIOException("could not delete the sandbox " + dir, e);
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
