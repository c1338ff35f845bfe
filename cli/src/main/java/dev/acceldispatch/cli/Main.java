package dev.acceldispatch.cli;

import dev.acceldispatch.DispatchException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code accel-dispatch}: run, submit, watch and cancel jobs from a terminal. See {@code
 * accel-dispatch --help}; exit codes are listed there and in {@link ExitCodes}.
 */
@Command(name = "accel-dispatch", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Runs ML jobs on the best accelerator offer of the providers it is configured with.",
    subcommands = {
        JobCommands.Run.class, JobCommands.Submit.class, JobCommands.Serve.class, QueryCommands.Status.class,
        QueryCommands.ListJobs.class, QueryCommands.Logs.class, QueryCommands.Cancel.class, JobCommands.PlanJob.class,
        QueryCommands.Cost.class, JobCommands.Schema.class, AutoComplete.GenerateCompletion.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:the job succeeded, or the command did what was asked",
        "1-255:run: the workload's own exit code when the job failed with one",
        "64:invalid input (option, job file, configuration)",
        "66:no job with that id",
        "69:run: the job failed without a workload exit code (no offer, timeout, budget)",
        "70:an internal error (run with --verbose for the stack trace)",
        "75:the store or a provider could not be reached",
        "130:run: the job was cancelled"})
public final class Main {
  private Main() {}

  /** Runs the tool and exits with its exit code. */
  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), Path.of(System.getProperty("user.home"))));
  }

  /** Runs the tool with this environment and home folder; returns the exit code. */
  static int run(String[] args, Map<String, String> env, Path userHome) {
    boolean verbose = java.util.Arrays.asList(args).contains("-v") || java.util.Arrays.asList(args).contains("--verbose");
    // The tool binds slf4j-simple; the library logs at INFO, which is noise in a terminal unless asked for.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    Cli cli = new Cli(Map.copyOf(env), userHome, Clock.systemUTC(), out, err);
    CommandLine cmd = new CommandLine(new Main(), new Factory(cli));
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setOut(out);
    cmd.setErr(err);
    cmd.setParameterExceptionHandler((e, a) -> {
      err.println("accel-dispatch: " + e.getMessage());
      err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
      return ExitCodes.INVALID_INPUT;
    });
    cmd.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      if (e instanceof UserError u) {
        err.println("accel-dispatch: " + u.getMessage());
        return u.exitCode();
      }
      if (e instanceof IllegalArgumentException || e instanceof NullPointerException && e.getMessage() != null) {
        err.println("accel-dispatch: " + e.getMessage());
        return ExitCodes.INVALID_INPUT;
      }
      if (e instanceof DispatchException) {
        err.println("accel-dispatch: " + e.getMessage());
        return ExitCodes.FAILED_WITHOUT_EXIT_CODE;
      }
      err.println("accel-dispatch: internal error: " + e + (verbose ? "" : " (run with --verbose for the stack trace)"));
      if (verbose) {
        e.printStackTrace(err);
      }
      return ExitCodes.INTERNAL_ERROR;
    });
    return cmd.execute(args);
  }

  /** Creates commands with the {@link Cli} they need. */
  private record Factory(Cli cli) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      for (var c : cls.getDeclaredConstructors()) {
        if (c.getParameterCount() == 1 && c.getParameterTypes()[0] == Cli.class) {
          c.setAccessible(true);
          return cls.cast(c.newInstance(cli));
        }
      }
      return CommandLine.defaultFactory().create(cls);
    }
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"accel-dispatch " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
