package dev.acceldispatch.local;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs short helper commands ({@code nvidia-smi}, {@code docker info}, {@code docker rm -f}) with a
 * deadline. Output goes to scratch files rather than pipes, so a chatty command can never block on
 * a full pipe, and a hung one is killed at the deadline.
 */
final class Commands {
  /** The most output kept from a helper command. */
  static final int MAX_OUTPUT_CHARS = 64 * 1024;

  private Commands() {}

  /**
   * The outcome of one command.
   *
   * @param exitCode the exit code, or -1 when it timed out and was killed
   * @param stdout the start of its standard output
   * @param stderr the start of its standard error
   */
  record Result(int exitCode, String stdout, String stderr) {
    boolean timedOut() {
      return exitCode == -1;
    }

    /** The first non-blank line of stderr, else of stdout, for error messages. */
    String firstLine() {
      for (String text : List.of(stderr, stdout)) {
        for (String line : text.split("\n")) {
          if (!line.isBlank()) {
            return line.strip();
          }
        }
      }
      return "";
    }
  }

  /**
   * Runs {@code argv} with {@code env} added to a minimal environment and waits at most {@code
   * timeout}.
   *
   * @throws IOException when it cannot be started (for example it does not exist)
   */
  static Result run(List<String> argv, Map<String, String> env, Duration timeout, Path scratchDir)
      throws IOException {
    Files.createDirectories(scratchDir);
    Path out = Files.createTempFile(scratchDir, "cmd", ".out");
    Path err = Files.createTempFile(scratchDir, "cmd", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(argv)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      boolean ended;
      try {
        ended = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + argv.get(0), e);
      }
      if (!ended) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        return new Result(-1, head(out), head(err));
      }
      return new Result(p.exitValue(), head(out), head(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** The start of a file, as text. */
  static String head(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes(MAX_OUTPUT_CHARS);
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  /**
   * The executable {@code command} names: itself when it holds a '/', else the first match on
   * {@code searchPath} (a {@code PATH}-style list).
   */
  static Optional<Path> findExecutable(String command, String searchPath) {
    if (command.indexOf('/') >= 0) {
      Path p = Path.of(command);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    if (searchPath == null) {
      return Optional.empty();
    }
    for (String dir : searchPath.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, command);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
