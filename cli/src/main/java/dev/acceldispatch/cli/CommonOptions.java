package dev.acceldispatch.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command takes: where the configuration is, and how much to log. */
final class CommonOptions {
  @Option(names = "--config", paramLabel = "FILE",
      description = "Configuration file (store and providers). Default: $ACCEL_DISPATCH_CONFIG, else an embedded H2 store and the local provider under ~/.accel-dispatch.")
  Path config;

  @Option(names = {"-v", "--verbose"}, description = "Log what the dispatcher does (INFO), and print stack traces of internal errors.")
  boolean verbose;

  /** Loads the configuration this command runs with. */
  CliConfig load(Cli cli) {
    return CliConfig.load(config, cli.env(), cli.userHome());
  }
}
