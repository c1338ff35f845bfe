package dev.acceldispatch.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.function.Function;

/**
 * What a command reads from and writes to, passed in so that the commands never reach for
 * globals: the environment, the user's home, the clock and the two output streams.
 *
 * @param envMap the process environment
 * @param userHome the user's home folder
 * @param clock the wall clock
 * @param out standard output (results)
 * @param err standard error (progress and messages)
 */
record Cli(Map<String, String> envMap, Path userHome, Clock clock, PrintWriter out, PrintWriter err) {
  Function<String, String> env() {
    return envMap::get;
  }
}
