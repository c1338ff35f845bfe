package dev.acceldispatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a job runs: a container image with its command, or a shell script, plus environment
 * variables. Secret variables are kept apart and never printed by {@link #toString()}.
 *
 * <p>Providers turn a workload into whatever their machine runs at boot (a startup script, cloud
 * init, a local process). Every string here reaches the workload unchanged: providers quote it,
 * they never interpret it.
 *
 * <p>The engine adds {@code ACCEL_DISPATCH_JOB_ID}, {@code ACCEL_DISPATCH_ATTEMPT} and, when the
 * dispatcher has a checkpoint base, {@code ACCEL_DISPATCH_CHECKPOINT_DIR}; names starting with
 * {@code ACCEL_DISPATCH_} are therefore reserved.
 */
public final class Workload {
  /** How the workload is run. */
  public enum Kind {
    /** A container image, run with its command and arguments. */
    CONTAINER,
    /** A POSIX shell script, run with {@code /bin/sh}. */
    SCRIPT
  }

  /** Environment names the engine sets itself. */
  public static final String RESERVED_ENV_PREFIX = "ACCEL_DISPATCH_";

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final Kind kind;
  private final String image;
  private final List<String> command;
  private final String script;
  private final Map<String, String> env;
  private final Map<String, Secret> secretEnv;

  private Workload(Builder b) {
    this.kind = b.kind;
    this.image = b.image;
    this.command = List.copyOf(b.command);
    this.script = b.script;
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.secretEnv = Collections.unmodifiableMap(new LinkedHashMap<>(b.secretEnv));
  }

  /**
   * A container workload.
   *
   * @param image the image reference, for example {@code us-docker.pkg.dev/p/train:1.4}
   * @param command the command and its arguments; empty to use the image's entry point
   */
  public static Builder container(String image, String... command) {
    Builder b = new Builder(Kind.CONTAINER);
    b.image = image;
    b.command.addAll(List.of(command));
    return b;
  }

  /** A shell script workload, run with {@code /bin/sh -c}. */
  public static Builder script(String script) {
    Builder b = new Builder(Kind.SCRIPT);
    b.script = script;
    return b;
  }

  /** Container or script. */
  public Kind kind() {
    return kind;
  }

  /** The image, or {@code null} for a script. */
  public String image() {
    return image;
  }

  /** The container command and arguments (empty for a script, or for the image's entry point). */
  public List<String> command() {
    return command;
  }

  /** The script text, or {@code null} for a container. */
  public String script() {
    return script;
  }

  /** Plain environment variables. */
  public Map<String, String> env() {
    return env;
  }

  /** Secret environment variables; the values are {@link Secret}s. */
  public Map<String, Secret> secretEnv() {
    return secretEnv;
  }

  /** A builder holding this workload's settings. */
  public Builder toBuilder() {
    Builder b = new Builder(kind);
    b.image = image;
    b.command.addAll(command);
    b.script = script;
    b.env.putAll(env);
    b.secretEnv.putAll(secretEnv);
    return b;
  }

  /**
   * A copy with engine-owned variables added (the {@code ACCEL_DISPATCH_} names may be set here,
   * and only here).
   */
  public Workload withEngineEnv(Map<String, String> engineEnv) {
    Builder b = toBuilder();
    engineEnv.forEach(
        (k, v) -> {
          if (!k.startsWith(RESERVED_ENV_PREFIX)) {
            throw new IllegalArgumentException("engine env names start with " + RESERVED_ENV_PREFIX);
          }
          b.env.put(k, v);
        });
    return new Workload(b);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Workload w
        && kind == w.kind
        && Objects.equals(image, w.image)
        && command.equals(w.command)
        && Objects.equals(script, w.script)
        && env.equals(w.env)
        && secretEnv.equals(w.secretEnv);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, image, command, script, env, secretEnv.keySet());
  }

  /** Shows names of secret variables, never their values. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Workload{");
    if (kind == Kind.CONTAINER) {
      sb.append("image=").append(image).append(", command=").append(command);
    } else {
      sb.append("script=").append(script.length()).append(" chars");
    }
    sb.append(", env=").append(env.keySet());
    if (!secretEnv.isEmpty()) {
      sb.append(", secretEnv=").append(secretEnv.keySet()).append(" (values hidden)");
    }
    return sb.append('}').toString();
  }

  /** Builds a {@link Workload}; {@link #build()} validates. */
  public static final class Builder {
    private final Kind kind;
    private String image;
    private final List<String> command = new ArrayList<>();
    private String script;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Secret> secretEnv = new LinkedHashMap<>();

    private Builder(Kind kind) {
      this.kind = kind;
    }

    /** Sets a plain environment variable. */
    public Builder env(String name, String value) {
      checkEnvName(name);
      Objects.requireNonNull(value, "env value of " + name);
      secretEnv.remove(name);
      env.put(name, value);
      return this;
    }

    /** Sets a secret environment variable; its value is never printed or logged. */
    public Builder secretEnv(String name, Secret value) {
      checkEnvName(name);
      Objects.requireNonNull(value, "secret env value of " + name);
      env.remove(name);
      secretEnv.put(name, value);
      return this;
    }

    /** Validates and builds. */
    public Workload build() {
      if (kind == Kind.CONTAINER) {
        if (image == null || image.isBlank()) {
          throw new IllegalArgumentException(
              "workload.image must be a non-empty container image reference");
        }
        if (image.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
          throw new IllegalArgumentException(
              "workload.image must not contain whitespace or control characters, got '" + image + "'");
        }
        for (int i = 0; i < command.size(); i++) {
          if (command.get(i) == null) {
            throw new IllegalArgumentException("workload.command[" + i + "] must not be null");
          }
          if (command.get(i).indexOf('\0') >= 0) {
            throw new IllegalArgumentException("workload.command[" + i + "] must not contain NUL");
          }
        }
      } else {
        if (script == null || script.isBlank()) {
          throw new IllegalArgumentException("workload.script must be a non-empty shell script");
        }
        if (script.indexOf('\0') >= 0) {
          throw new IllegalArgumentException("workload.script must not contain NUL");
        }
      }
      env.forEach(
          (k, v) -> {
            if (v.indexOf('\0') >= 0) {
              throw new IllegalArgumentException("workload.env[" + k + "] must not contain NUL");
            }
          });
      return new Workload(this);
    }

    private static void checkEnvName(String name) {
      Objects.requireNonNull(name, "env name");
      if (!ENV_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "workload.env name must match [A-Za-z_][A-Za-z0-9_]*, got '" + name + "'");
      }
      if (name.startsWith(RESERVED_ENV_PREFIX)) {
        throw new IllegalArgumentException(
            "workload.env name '" + name + "' is reserved: names starting with "
                + RESERVED_ENV_PREFIX + " are set by the engine");
      }
    }
  }
}
