package dev.acceldispatch.spi;

import dev.acceldispatch.Secret;
import dev.acceldispatch.SecretUnavailableException;
import dev.acceldispatch.Workload;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Builds the POSIX shell script a cloud machine runs at boot: it exports the job's environment,
 * runs the workload (in a container, or as a script), and hands the exit code to a reporting
 * command the provider supplies (guest attributes, a tag, a file). This is the one place where
 * anything from a job spec reaches a shell, and {@link #quote(String)} is the one quoting function:
 * a value holding quotes, {@code $(...)}, backticks, newlines or non-ASCII text reaches the workload
 * unchanged and executes nothing else.
 *
 * <p>Secret variables are never written in clear: the provider supplies a command that fetches a
 * secret on the machine with the machine's own identity; without one, secrets are refused, unless
 * the host opted in to writing them in clear with {@link Builder#secretsInClear()}. A secret given
 * as a reference to a cloud's secret store ({@link Secret#googleSecretManager}, {@link
 * Secret#azureKeyVault}) is read on the machine by the store's own CLI when the provider declares
 * that its machines can ({@link Builder#machineResolves}); if the machine cannot read it, the
 * script writes a line naming the reference (never a value) to stderr and reports exit code
 * {@value #SECRET_UNRESOLVED_EXIT_CODE} without running the workload. References to the
 * dispatcher's host are read here, when the script is built.
 */
public final class StartupScript {
  /** The exit code reported when the machine cannot resolve a secret reference (sysexits' EX_CONFIG). */
  public static final int SECRET_UNRESOLVED_EXIT_CODE = 78;

  private StartupScript() {}

  /**
   * Quotes {@code value} as one POSIX shell word: single quotes around it, each embedded single
   * quote written as {@code '\''}. Every byte other than {@code '} is literal inside single quotes,
   * so nothing in the value is expanded or executed.
   */
  public static String quote(String value) {
    Objects.requireNonNull(value, "value");
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a shell word cannot hold a NUL character");
    }
    return "'" + value.replace("'", "'\\''") + "'";
  }

  /** Starts a script for {@code workload}. */
  public static Builder forWorkload(Workload workload) {
    return new Builder(workload);
  }

  /** Builds one startup script. */
  public static final class Builder {
    private final Workload workload;
    private final List<String> dockerArgs = new ArrayList<>();
    private String containerRuntime = "docker";
    private String exitReporter;
    private final List<String> preamble = new ArrayList<>();
    private Function<String, String> secretFetcher;
    private boolean secretsInClear;
    private final EnumSet<Secret.Kind> machineResolves = EnumSet.noneOf(Secret.Kind.class);

    private Builder(Workload workload) {
      this.workload = Objects.requireNonNull(workload, "workload");
    }

    /** Extra arguments to {@code docker run}, each one word (quoted here), e.g. {@code --gpus all}. */
    public Builder dockerArgs(String... args) {
      dockerArgs.addAll(List.of(args));
      return this;
    }

    /** The container runtime command; default {@code docker}. */
    public Builder containerRuntime(String command) {
      this.containerRuntime = Objects.requireNonNull(command, "containerRuntime");
      return this;
    }

    /**
     * Provider-written shell lines run before the workload (trusted: they are not quoted, so
     * never put spec values in them; use {@link #quote} for anything variable).
     */
    public Builder preamble(String line) {
      preamble.add(Objects.requireNonNull(line, "line"));
      return this;
    }

    /**
     * The provider's command that reports the exit code, which the script puts in {@code $rc}
     * first; trusted shell text, e.g. {@code curl -X PUT ... --data "$rc"}. Required: there is no
     * default, because a script that reports nothing leaves the engine waiting on a machine whose
     * workload ended (it sees it running until {@code timeout}, paying for it).
     */
    public Builder exitReporter(String command) {
      this.exitReporter = Objects.requireNonNull(command, "exitReporter");
      return this;
    }

    /**
     * How a secret is fetched on the machine: given the quoted secret variable's name, returns
     * shell text that prints its value (for example a call to the cloud's secret manager with the
     * machine's identity).
     */
    public Builder secretFetcher(Function<String, String> fetcher) {
      this.secretFetcher = Objects.requireNonNull(fetcher, "secretFetcher");
      return this;
    }

    /**
     * Writes secret values into the script in clear. Anyone who can read the machine's metadata
     * can then read them: an explicit opt-in, never a default.
     */
    public Builder secretsInClear() {
      this.secretsInClear = true;
      return this;
    }

    /**
     * Declares that the machine can read references of this cloud secret store kind itself, with
     * its own identity: {@link Secret.Kind#GOOGLE_SECRET_MANAGER} with {@code gcloud secrets
     * versions access}, {@link Secret.Kind#AZURE_KEY_VAULT} with {@code az keyvault secret show}
     * after {@code az login --identity}. The machine image must have that CLI.
     */
    public Builder machineResolves(Secret.Kind kind) {
      if (!Objects.requireNonNull(kind, "kind").isCloudStore()) {
        throw new IllegalArgumentException("machineResolves: kind must be GOOGLE_SECRET_MANAGER or AZURE_KEY_VAULT, got " + kind);
      }
      machineResolves.add(kind);
      return this;
    }

    /**
     * Renders the script.
     *
     * @throws IllegalArgumentException when the workload has secret values and neither a fetcher
     *     nor {@link #secretsInClear()} was given, a cloud-store reference this provider's machines
     *     cannot resolve, or a dispatcher-host reference that cannot be resolved; the message names
     *     the variables and references, never a value
     * @throws IllegalStateException when no {@link #exitReporter} was given
     */
    public String build() {
      List<String> values = new ArrayList<>();
      for (var e : workload.secretEnv().entrySet()) {
        Secret.Kind kind = e.getValue().kind();
        if (kind.isCloudStore() && !machineResolves.contains(kind)) {
          throw new IllegalArgumentException(
              "workload.secretEnv[" + e.getKey() + "] is a " + e.getValue().describe() + ", which this provider's machines"
                  + " cannot resolve" + (machineResolves.isEmpty() ? "" : " (they resolve " + machineResolves + ")"));
        }
        if (!kind.isCloudStore()) {
          values.add(e.getKey());
        }
      }
      if (!values.isEmpty() && secretFetcher == null && !secretsInClear) {
        throw new IllegalArgumentException(
            "workload.secretEnv " + values + ": this provider has no secret store"
                + " configured, and secrets are never written in clear unless the host opts in;"
                + " give a Secret.googleSecretManager or Secret.azureKeyVault reference the machine can resolve instead");
      }
      if (exitReporter == null) {
        throw new IllegalStateException("exitReporter: give the shell command that reports the exit code in $rc to"
            + " where the provider reads it (a guest attribute, a tag, a file); without one the engine never learns"
            + " that the workload ended");
      }
      StringBuilder s = new StringBuilder("#!/bin/sh\n");
      s.append("# Written by AccelDispatch. Every value from the job spec is single-quoted.\n");
      for (String line : preamble) {
        s.append(line).append('\n');
      }
      for (Map.Entry<String, String> e : workload.env().entrySet()) {
        s.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
      }
      for (var e : workload.secretEnv().entrySet()) {
        Secret secret = e.getValue();
        if (secret.kind().isCloudStore()) {
          s.append("if ! ").append(e.getKey()).append("=\"$(").append(machineCommand(secret)).append(")\"; then\n")
              .append("  echo ").append(quote("accel-dispatch: cannot resolve " + secret.describe() + " for " + e.getKey()))
              .append(" >&2\n")
              .append("  rc=").append(SECRET_UNRESOLVED_EXIT_CODE).append('\n')
              .append("  ").append(exitReporter).append('\n')
              .append("  exit ").append(SECRET_UNRESOLVED_EXIT_CODE).append('\n')
              .append("fi\n")
              .append("export ").append(e.getKey()).append('\n');
          continue;
        }
        String value;
        if (secretsInClear && secretFetcher == null) {
          try {
            value = quote(secret.reveal());
          } catch (SecretUnavailableException unresolved) {
            throw new IllegalArgumentException("workload.secretEnv[" + e.getKey() + "]: " + unresolved.getMessage());
          }
        } else {
          value = "\"$(" + secretFetcher.apply(quote(e.getKey())) + ")\"";
        }
        s.append("export ").append(e.getKey()).append('=').append(value).append('\n');
      }
      if (workload.kind() == Workload.Kind.CONTAINER) {
        s.append(containerRuntime).append(" run --rm");
        for (String a : dockerArgs) {
          s.append(' ').append(quote(a));
        }
        for (String name : workload.env().keySet()) {
          s.append(" -e ").append(name);
        }
        for (String name : workload.secretEnv().keySet()) {
          s.append(" -e ").append(name);
        }
        s.append(' ').append(quote(workload.image()));
        for (String arg : workload.command()) {
          s.append(' ').append(quote(arg));
        }
        s.append('\n');
      } else {
        s.append("/bin/sh -c ").append(quote(workload.script())).append('\n');
      }
      s.append("rc=$?\n");
      s.append(exitReporter).append('\n');
      return s.toString();
    }

    /** The CLI call that prints a cloud-store secret's value on the machine. */
    private static String machineCommand(Secret secret) {
      String ref = secret.reference();
      if (secret.kind() == Secret.Kind.GOOGLE_SECRET_MANAGER) {
        // projects/P/secrets/S/versions/V, as Secret validated it.
        String[] p = ref.split("/");
        return "gcloud secrets versions access " + quote(p[5]) + " --secret=" + quote(p[3]) + " --project=" + quote(p[1]) + " --quiet";
      }
      return "az login --identity --allow-no-subscriptions >/dev/null && az keyvault secret show --id " + quote(ref)
          + " --query value --output tsv";
    }
  }
}
