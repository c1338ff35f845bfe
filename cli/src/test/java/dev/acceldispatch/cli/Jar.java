package dev.acceldispatch.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the built {@code accel-dispatch.jar} as a separate process, as a person would, with a home
 * folder of its own. Every process it starts is destroyed by {@link #close()}; the home folder is
 * deleted.
 */
final class Jar implements AutoCloseable {
  static final Path JAR = Path.of(System.getProperty("accel.dispatch.jar", "target/accel-dispatch.jar"));
  static final Path EXAMPLES = Path.of(System.getProperty("accel.dispatch.examples", "../examples"));

  /** A finished command: its exit code and both outputs. */
  record Result(int exitCode, String out, String err) {}

  final Path home;
  private final Map<String, String> env = new HashMap<>();
  private final List<Process> started = new ArrayList<>();

  Jar() {
    try {
      home = Files.createTempDirectory("accel-dispatch-cli-it");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    env.put("HOME", home.toString());
  }

  Jar env(String name, String value) {
    env.put(name, value);
    return this;
  }

  /** Starts the tool with {@code args}; output goes to files in the home folder. */
  Process start(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Duser.home=" + home, "-jar", JAR.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile());
    pb.environment().remove(CliConfig.ENV_CONFIG);
    pb.environment().putAll(env);
    String tag = "p" + started.size();
    pb.redirectOutput(home.resolve(tag + ".out").toFile()).redirectError(home.resolve(tag + ".err").toFile());
    try {
      Process p = pb.start();
      started.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What a started process has written so far to standard output. */
  String out(Process p) {
    return read(home.resolve("p" + started.indexOf(p) + ".out"));
  }

  /** What a started process has written so far to standard error. */
  String err(Process p) {
    return read(home.resolve("p" + started.indexOf(p) + ".err"));
  }

  /** Runs the tool to its end (at most {@code limit}) and returns what it did. */
  Result run(Duration limit, String... args) {
    Process p = start(args);
    try {
      if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("accel-dispatch " + String.join(" ", args) + " did not end within " + limit
            + "\nstdout: " + out(p) + "\nstderr: " + err(p));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return new Result(p.exitValue(), out(p), err(p));
  }

  Result run(String... args) {
    return run(Duration.ofSeconds(90), args);
  }

  /** Writes a file in the home folder. */
  Path write(String name, String text) {
    try {
      return Files.writeString(home.resolve(name), text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL) with its children, and deletes the home folder. */
  @Override
  public void close() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    try {
      for (Process p : started) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      started.forEach(p -> {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      });
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> all = Files.walk(home)) {
      for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
