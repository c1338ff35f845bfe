package dev.acceldispatch.local;

import dev.acceldispatch.Workload;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What the provider remembers about one attempt, in its state folder, so that a restarted
 * dispatcher (or another one sharing the state directory) can find its process, check that the pid
 * still is that process, and end it. Holds no environment values: secrets never reach a file.
 *
 * @param name the resource name
 * @param fleet the owning fleet
 * @param job the job id
 * @param attempt the attempt number
 * @param machineType the offer's machine type
 * @param devices the GPU indices allocated to it (empty for the CPU shape)
 * @param kind script or container
 * @param containerName the container's name, for containers; empty otherwise
 * @param runtime the container runtime executable, for containers; empty otherwise
 * @param pid the process id of the attempt's shell
 * @param pgid its process group, or 0 when it was not started in a group of its own
 * @param startMillis the process's start time in epoch millis, as the OS reports it (0 if unknown)
 * @param token the value of the marker variable every process of the attempt inherits
 * @param created when it was started
 * @param logDir the attempt's log folder
 * @param labels the sanitised labels
 */
record AttemptRecord(
    String name,
    String fleet,
    String job,
    int attempt,
    String machineType,
    List<Integer> devices,
    Workload.Kind kind,
    String containerName,
    String runtime,
    long pid,
    long pgid,
    long startMillis,
    String token,
    Instant created,
    Path logDir,
    Map<String, String> labels) {

  static final int FORMAT_VERSION = 1;
  private static final String LABEL_PREFIX = "label.";

  AttemptRecord {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fleet, "fleet");
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(machineType, "machineType");
    devices = List.copyOf(devices);
    Objects.requireNonNull(kind, "kind");
    containerName = containerName == null ? "" : containerName;
    runtime = runtime == null ? "" : runtime;
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(logDir, "logDir");
    labels = Map.copyOf(labels);
  }

  /** Writes it to {@code file} atomically (a reader sees the old file or the new one). */
  void store(Path file) throws IOException {
    Properties p = new Properties();
    p.setProperty("version", Integer.toString(FORMAT_VERSION));
    p.setProperty("name", name);
    p.setProperty("fleet", fleet);
    p.setProperty("job", job);
    p.setProperty("attempt", Integer.toString(attempt));
    p.setProperty("machineType", machineType);
    p.setProperty("devices", devices.stream().map(String::valueOf).collect(Collectors.joining(",")));
    p.setProperty("kind", kind.name());
    p.setProperty("containerName", containerName);
    p.setProperty("runtime", runtime);
    p.setProperty("pid", Long.toString(pid));
    p.setProperty("pgid", Long.toString(pgid));
    p.setProperty("startMillis", Long.toString(startMillis));
    p.setProperty("token", token);
    p.setProperty("created", created.toString());
    p.setProperty("logDir", logDir.toString());
    new TreeMap<>(labels).forEach((k, v) -> p.setProperty(LABEL_PREFIX + k, v));
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "AccelDispatch local provider attempt state; do not edit");
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads one back.
   *
   * @throws IOException when it cannot be read
   * @throws IllegalArgumentException when it is not a complete record of a known version
   */
  static AttemptRecord load(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    String version = p.getProperty("version");
    if (!Integer.toString(FORMAT_VERSION).equals(version)) {
      throw new IllegalArgumentException("unknown state format version " + version + " in " + file);
    }
    List<Integer> devices = new ArrayList<>();
    for (String d : required(p, "devices").split(",")) {
      if (!d.isBlank()) {
        devices.add(Integer.parseInt(d.strip()));
      }
    }
    Map<String, String> labels = new LinkedHashMap<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith(LABEL_PREFIX)) {
        labels.put(key.substring(LABEL_PREFIX.length()), p.getProperty(key));
      }
    }
    return new AttemptRecord(
        required(p, "name"),
        required(p, "fleet"),
        required(p, "job"),
        Integer.parseInt(required(p, "attempt")),
        required(p, "machineType"),
        devices,
        Workload.Kind.valueOf(required(p, "kind")),
        p.getProperty("containerName", ""),
        p.getProperty("runtime", ""),
        Long.parseLong(required(p, "pid")),
        Long.parseLong(required(p, "pgid")),
        Long.parseLong(required(p, "startMillis")),
        required(p, "token"),
        Instant.parse(required(p, "created")),
        Path.of(required(p, "logDir")),
        labels);
  }

  private static String required(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IllegalArgumentException("state file lacks '" + key + "'");
    }
    return v;
  }
}
