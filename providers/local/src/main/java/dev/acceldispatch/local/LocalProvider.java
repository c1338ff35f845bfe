package dev.acceldispatch.local;

import dev.acceldispatch.AcceleratorFamily;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Secret;
import dev.acceldispatch.SecretUnavailableException;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.Workload;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.spi.LogChunk;
import dev.acceldispatch.spi.LogSource;
import dev.acceldispatch.spi.Provider;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProviderLimits;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.spi.SecretDelivery;
import dev.acceldispatch.spi.StartupScript;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider that runs jobs as processes on this machine, on its own NVIDIA GPUs or, for
 * workloads that need none, on its CPU. A team uses it to run on its workstation or on-premise
 * GPUs first and burst to the clouds when they are busy.
 *
 * <pre>{@code
 * Provider local = LocalProvider.builder(Path.of("/var/lib/myservice/accel-dispatch"))
 *     .logDirectory(Path.of("/var/log/myservice/jobs"))
 *     .build();
 * }</pre>
 *
 * <p><b>Offers.</b> At {@link Builder#build()} the provider runs {@code nvidia-smi
 * --query-gpu=index,name,memory.total,uuid --format=csv,noheader} and maps each GPU's name to a
 * catalog type (names it cannot map are skipped with a warning; map them with {@link
 * Builder#gpuType}). For each type with {@code n} devices it offers 1, 2, 4 and 8 GPUs where they
 * fit, each with capacity {@code n / count}; it also offers the CPU-only shape ({@link
 * Shapes#cpu()}, machine type {@code cpu}) with {@link Builder#cpuSlots} slots. Prices come from
 * the {@link PriceCatalog} (provider id, SKU = the type id or {@code cpu}, region {@code local}, per
 * device-hour) and are zero when it has no row: the machine is already paid for. Region is {@value
 * #REGION}, zone is {@code local-<host name>}. There is no spot tier.
 *
 * <p><b>Running.</b> Each attempt gets a startup script built with {@link StartupScript}, run with
 * {@code /bin/sh} in a session of its own ({@code setsid}, when installed). A script workload runs
 * with {@code /bin/sh -c}; a container workload with {@code docker run} or {@code podman run}
 * (whichever is on {@code PATH}, or {@link Builder#containerRuntime}); without a usable runtime a
 * container workload is refused with {@link ProviderException.InvalidRequest} before anything
 * starts. GPUs are pinned: a script sees {@code CUDA_VISIBLE_DEVICES} set to its devices (and
 * {@code CUDA_DEVICE_ORDER=PCI_BUS_ID}, so CUDA numbers them as {@code nvidia-smi} does); a container
 * is given only its devices ({@code --gpus} or CDI {@code --device}); a CPU-shape script sees no
 * GPU. No two live attempts share a device, also across dispatchers sharing the state directory.
 * Secret variables go into the process environment only, never into a file or a log line.
 *
 * <p><b>Files.</b> The state directory the host names holds one folder per live attempt (its
 * record, script and reported exit code); it must be private to the dispatcher's user and one
 * per machine (dispatchers that share it share the GPUs correctly). Each attempt's {@code
 * stdout.log}, {@code stderr.log} and {@code exit-code} go to {@code <log directory>/<resource
 * name>/}, which is also the workload's working directory and is kept after release; its path is
 * in every status's attributes as {@value #ATTR_LOG_DIR}.
 *
 * <p><b>Ending.</b> {@link #release} sends SIGTERM to every process of the attempt (its process
 * group, its descendants, and any process carrying its marker variable, so also re-parented or
 * re-sessioned grandchildren), waits the grace period, removes its container, sends SIGKILL to what
 * is left, and then forgets the attempt. After a crash of the dispatcher the attempt's processes
 * keep running and its folder stays; a new provider on the same state directory lists them
 * ({@link #listOwned}), reads their state (a recorded pid is trusted only while its start time
 * still matches) and ends them.
 *
 * <p>Thread-safe; every method may block for process start or termination, never on network I/O.
 */
public final class LocalProvider implements Provider, SecretDelivery, LogSource {
  /** The default provider id. */
  public static final String DEFAULT_ID = "local";
  /** The region of every offer. */
  public static final String REGION = "local";
  /** Status and resource attribute: the attempt's log folder. */
  public static final String ATTR_LOG_DIR = "log.dir";
  /** Status attribute: the attempt's standard output file. */
  public static final String ATTR_STDOUT = "log.stdout";
  /** Status attribute: the attempt's standard error file. */
  public static final String ATTR_STDERR = "log.stderr";
  /** Status and resource attribute: the GPU indices pinned to the attempt, comma-separated. */
  public static final String ATTR_DEVICES = "devices";
  /** Status and resource attribute: the pid of the attempt's shell. */
  public static final String ATTR_PID = "pid";
  /** The machine type of the CPU-only offer. */
  public static final String CPU_MACHINE_TYPE = "cpu";

  /** Variables passed from this JVM's environment to every workload unless changed. */
  static final List<String> DEFAULT_PASSED_ENV =
      List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SHELL",
          "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "CONTAINER_HOST", "XDG_RUNTIME_DIR");
  /** Linux's limit on one argument (MAX_ARG_STRLEN, 128 KiB), less the terminating NUL. */
  static final int MAX_SCRIPT_BYTES = 128 * 1024 - 1;
  static final String STDOUT_FILE = "stdout.log";
  static final String STDERR_FILE = "stderr.log";
  private static final String FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";
  private static final Logger log = LoggerFactory.getLogger(LocalProvider.class);

  private final String id;
  private final String zone;
  private final AttemptStore store;
  private final Path logDir;
  private final List<GpuDevice> gpus;
  private final List<Offer> offers;
  private final Map<String, Offer> offersByMachineType;
  private final int cpuSlots;
  private final Path configuredRuntime;
  private final Duration grace;
  private final Duration helperTimeout;
  private final Map<String, String> baseEnv;
  private final ProviderLimits limits;
  private final Optional<Path> setsid;
  private final ProcessTree processes = new ProcessTree();
  private volatile ContainerRuntime runtime;

  private LocalProvider(Builder b) {
    this.id = b.id;
    this.zone = "local-" + sanitizeHost(b.hostName != null ? b.hostName : defaultHostName());
    this.store = new AttemptStore(b.stateDirectory.toAbsolutePath());
    this.logDir = (b.logDirectory != null ? b.logDirectory : b.stateDirectory.resolve("logs")).toAbsolutePath();
    this.cpuSlots = b.cpuSlots;
    this.configuredRuntime = b.containerRuntime;
    this.grace = b.terminationGrace;
    this.helperTimeout = b.helperTimeout;
    this.baseEnv = baseEnvironment(b);
    this.setsid = Commands.findExecutable("setsid", baseEnv.get("PATH") + File.pathSeparator + FALLBACK_PATH);
    try {
      AttemptStore.createPrivateDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create log directory " + logDir, e);
    }
    this.gpus = NvidiaSmi.discover(b.nvidiaSmi, baseEnv, new GpuTypes(b.gpuTypes), helperTimeout, store.scratchDir());
    this.offers = buildOffers(b.priceCatalog);
    Map<String, Offer> byType = new LinkedHashMap<>();
    offers.forEach(o -> byType.put(o.machineType(), o));
    this.offersByMachineType = Map.copyOf(byType);
    this.limits = b.limits != null ? b.limits
        : new ProviderLimits(50, grace.plus(helperTimeout).plus(Duration.ofSeconds(30)), 2,
            Duration.ofMillis(200), Duration.ofSeconds(2), 5, Duration.ofSeconds(30));
    if (offers.isEmpty()) {
      log.warn("local provider '{}' offers nothing: no GPUs found and cpuSlots is 0", id);
    }
    log.info("local provider '{}' in {}: {} GPU(s) {}, {} CPU slot(s), state in {}", id, zone, gpus.size(),
        gpus.stream().map(g -> g.index() + ":" + g.type().id()).toList(), cpuSlots, store.stateDir());
  }

  /**
   * Starts configuring a local provider.
   *
   * @param stateDirectory where it keeps the state of running attempts; private to this user, one
   *     per machine, kept across restarts (not a directory the OS empties while jobs may run)
   */
  public static Builder builder(Path stateDirectory) {
    return new Builder(stateDirectory);
  }

  /**
   * Values and dispatcher-host references, revealed here and put in the process environment; never
   * a cloud secret store reference, since a local process has no machine identity to read one with.
   */
  @Override
  public Set<Secret.Kind> deliverableSecretKinds() {
    return EnumSet.of(Secret.Kind.LITERAL, Secret.Kind.DISPATCHER_ENV, Secret.Kind.DISPATCHER_FILE);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public List<Offer> offers() {
    return offers;
  }

  @Override
  public ProviderLimits limits() {
    return limits;
  }

  /** The zone of every offer: {@code local-<host name>}. */
  public String zone() {
    return zone;
  }

  @Override
  public ProvisionedResource provision(ProvisionRequest request) {
    Objects.requireNonNull(request, "request");
    return guarded(() -> provisionUnguarded(request));
  }

  private ProvisionedResource provisionUnguarded(ProvisionRequest request) {
    Offer offer = ourOffer(request.offer());
    Workload w = request.workload();
    if (w.kind() == Workload.Kind.SCRIPT
        && StartupScript.quote(w.script()).getBytes(StandardCharsets.UTF_8).length > MAX_SCRIPT_BYTES) {
      throw new ProviderException.InvalidRequest(id, zone, "SCRIPT_TOO_LONG", "workload.script is "
          + w.script().length() + " characters; /bin/sh -c takes at most " + MAX_SCRIPT_BYTES
          + " bytes here: put it in a file and run that", null);
    }
    // Refused before anything starts: a cloud-store reference (no machine identity here), a missing
    // dispatcher variable or file, a value the store could not decrypt. Names the reference only.
    w.secretEnv().forEach((k, v) -> {
      try {
        v.reveal();
      } catch (SecretUnavailableException e) {
        throw new ProviderException.InvalidRequest(id, zone, "SECRET_UNAVAILABLE", "workload.secretEnv[" + k + "]: " + e.getMessage(), null);
      }
    });
    ContainerRuntime rt = request.workload().kind() == Workload.Kind.CONTAINER ? requireRuntime() : null;
    return store.locked(() -> provisionLocked(request, offer, rt));
  }

  private ProvisionedResource provisionLocked(ProvisionRequest request, Offer offer, ContainerRuntime rt) {
    String name = request.resourceName();
    Optional<AttemptRecord> existing = store.read(name);
    if (existing.isPresent()) {
      AttemptRecord r = existing.get();
      if (!r.fleet().equals(request.fleetId()) || !r.job().equals(request.jobId()) || r.attempt() != request.attempt()) {
        // Adopting is for the same attempt coming back; another fleet's process is not ours to take.
        throw new ProviderException.InvalidRequest(id, zone, "NAME_IN_USE", "resource name " + name
            + " is in use by fleet " + r.fleet() + ", job " + r.job() + ", attempt " + r.attempt(), null);
      }
      log.info("adopting local attempt {} (pid {})", name, r.pid());
      return resource(r);
    }
    try {
      if (store.exists(name)) {
        // A provision that died before its first record was written; it started no process.
        store.delete(name);
      }
      List<Integer> devices = allocate(offer);
      return resource(start(request, offer, devices, rt));
    } catch (IOException e) {
      throw new ProviderException.Transient(id, zone, "IO_ERROR", "cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  /** Picks free devices for {@code offer}, or throws when there are not enough. */
  private List<Integer> allocate(Offer offer) {
    List<AttemptRecord> live = store.all();
    if (offer.shape().type().family() == AcceleratorFamily.CPU) {
      long used = live.stream().filter(r -> r.machineType().equals(CPU_MACHINE_TYPE)).count();
      if (used >= cpuSlots) {
        throw new ProviderException.CapacityUnavailable(id, zone, "CPU_SLOTS_BUSY",
            "all " + cpuSlots + " CPU slots are in use", null);
      }
      return List.of();
    }
    Set<Integer> busy = new LinkedHashSet<>();
    live.forEach(r -> busy.addAll(r.devices()));
    AcceleratorType type = offer.shape().type();
    List<GpuDevice> ofType = gpus.stream().filter(g -> g.type().equals(type)).toList();
    List<Integer> free = ofType.stream().map(GpuDevice::index).filter(i -> !busy.contains(i)).toList();
    int need = offer.shape().count();
    if (free.size() < need) {
      String holders = live.stream().filter(r -> !r.devices().isEmpty())
          .map(r -> r.name() + r.devices()).collect(Collectors.joining(", "));
      throw new ProviderException.CapacityUnavailable(id, zone, "DEVICES_BUSY",
          "need " + need + " " + type.id() + ", " + free.size() + " of " + ofType.size()
              + " free; in use: " + holders, null);
    }
    return List.copyOf(free.subList(0, need));
  }

  private AttemptRecord start(ProvisionRequest request, Offer offer, List<Integer> devices, ContainerRuntime rt)
      throws IOException {
    String name = request.resourceName();
    Path dir = store.folder(name);
    AttemptStore.createPrivateDirectories(dir);
    Path logs = logDir.resolve(name);
    Files.createDirectories(logs);
    Files.deleteIfExists(logs.resolve(AttemptStore.EXIT_FILE));
    Map<String, String> labels = LocalLabels.of(request);
    String containerName = rt == null ? "" : "accel-dispatch-" + name;
    Path script = dir.resolve(AttemptStore.SCRIPT_FILE);
    boolean cpu = offer.shape().type().family() == AcceleratorFamily.CPU;
    Files.writeString(script, script(request.workload(), devices, cpu, rt, containerName, labels, dir, logs),
        StandardCharsets.UTF_8);

    List<String> argv = new ArrayList<>();
    setsid.ifPresent(p -> argv.add(p.toString()));
    argv.add("/bin/sh");
    argv.add(script.toString());
    ProcessBuilder pb = new ProcessBuilder(argv)
        .directory(logs.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve(STDOUT_FILE).toFile()))
        .redirectError(ProcessBuilder.Redirect.appendTo(logs.resolve(STDERR_FILE).toFile()));
    Map<String, String> env = pb.environment();
    env.clear();
    env.putAll(baseEnv);
    String token = UUID.randomUUID().toString();
    env.put(ProcessTree.MARKER_VARIABLE, token);
    // Secrets reach the process environment only; the script exports nothing for them.
    request.workload().secretEnv().forEach((k, v) -> env.put(k, v.reveal()));

    // Recorded before the start, without a pid: should this JVM die before the pid is recorded, the
    // token still finds the processes (ProcessTree), so they are never out of reach.
    AttemptRecord before = new AttemptRecord(name, request.fleetId(), request.jobId(), request.attempt(),
        offer.machineType(), devices, request.workload().kind(), containerName,
        rt == null ? "" : rt.executable().toString(), 0, 0, 0, token, Instant.now(), logs, labels);
    store.write(before);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      AttemptStore.deleteTree(dir);
      throw e;
    }
    long startMillis = p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    AttemptRecord r = new AttemptRecord(name, before.fleet(), before.job(), before.attempt(), before.machineType(),
        devices, before.kind(), containerName, before.runtime(), p.pid(), setsid.isPresent() ? p.pid() : 0,
        startMillis, token, before.created(), logs, labels);
    try {
      store.write(r);
    } catch (IOException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      AttemptStore.deleteTree(dir);
      throw e;
    }
    log.info("started local attempt {} of job {} (pid {}, {}, devices {}), logs in {}", name, request.jobId(),
        p.pid(), offer.machineType(), devices, logs);
    return r;
  }

  /** The attempt's startup script: the job's workload, pinned, reporting its exit code to files. */
  private static String script(Workload w, List<Integer> devices, boolean cpu, ContainerRuntime rt,
      String containerName, Map<String, String> labels, Path dir, Path logs) {
    Workload.Builder b = w.kind() == Workload.Kind.CONTAINER
        ? Workload.container(w.image(), w.command().toArray(new String[0]))
        : Workload.script(w.script());
    Map<String, String> engineEnv = new LinkedHashMap<>();
    w.env().forEach((k, v) -> {
      if (k.startsWith(Workload.RESERVED_ENV_PREFIX)) {
        engineEnv.put(k, v);
      } else {
        b.env(k, v);
      }
    });
    if (rt == null) {
      // Set after the job's own variables so that pinning wins. An empty list hides every GPU.
      b.env("CUDA_VISIBLE_DEVICES", cpu ? "" : devices.stream().map(String::valueOf).collect(Collectors.joining(",")));
      b.env("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    }
    Workload plain = b.build();
    if (!engineEnv.isEmpty()) {
      plain = plain.withEngineEnv(engineEnv);
    }
    // Shell built-ins only, so the report works whatever PATH the job ends up with.
    String stateExit = StartupScript.quote(dir.resolve(AttemptStore.EXIT_FILE).toString());
    String logExit = StartupScript.quote(logs.resolve(AttemptStore.EXIT_FILE).toString());
    StartupScript.Builder s = StartupScript.forWorkload(plain)
        .exitReporter("printf '%s\\n' \"$rc\" > " + logExit + "\n"
            + "printf '%s\\n' \"$rc\" > " + stateExit + "\n"
            + "exit \"$rc\"");
    if (rt != null) {
      List<String> args = new ArrayList<>(rt.runArgs(containerName, devices, labels));
      for (String secret : w.secretEnv().keySet()) {
        args.add("-e");
        args.add(secret);
      }
      s.containerRuntime(StartupScript.quote(rt.executable().toString())).dockerArgs(args.toArray(new String[0]));
    }
    return s.build();
  }

  @Override
  public ResourceStatus status(ProvisionedResource resource) {
    return guarded(() -> statusUnguarded(resource));
  }

  private ResourceStatus statusUnguarded(ProvisionedResource resource) {
    String name = resource.name();
    Optional<AttemptRecord> rec = settledRecord(name);
    if (rec.isEmpty()) {
      return ResourceStatus.gone("no local attempt named " + name);
    }
    AttemptRecord r = rec.get();
    Map<String, String> attrs = statusAttributes(r);
    OptionalInt code = store.exitCode(name);
    if (code.isEmpty() && (processes.isShellAlive(r) || (r.pid() <= 0 && !processes.members(r).isEmpty()))) {
      return ResourceStatus.running(shellName(r) + " running" + onDevices(r)).withAttributes(attrs);
    }
    if (code.isEmpty()) {
      // The script writes its exit code before it exits, so read again after seeing it gone.
      code = store.exitCode(name);
    }
    if (code.isPresent()) {
      return ResourceStatus.exited(code.getAsInt(), "exited with code " + code.getAsInt()).withAttributes(attrs);
    }
    return ResourceStatus.preempted(shellName(r) + " ended without reporting an exit code"
        + " (killed from outside the provider, or the host restarted)").withAttributes(attrs);
  }

  @Override
  public void release(ProvisionedResource resource) {
    guarded(() -> {
      releaseUnguarded(resource);
      return null;
    });
  }

  private void releaseUnguarded(ProvisionedResource resource) {
    String name = resource.name();
    if (!AttemptStore.validName(name)) {
      return;
    }
    Optional<AttemptRecord> rec = settledRecord(name);
    if (rec.isEmpty()) {
      // Only a folder a provision left half made, if any; the lock waits for one in progress.
      store.locked(() -> {
        if (store.read(name).isEmpty()) {
          deleteState(name);
        }
        return null;
      });
      return;
    }
    AttemptRecord r = rec.get();
    boolean[] containerRemoved = {r.containerName().isEmpty()};
    Runnable removeContainer = () -> containerRemoved[0] = removeContainer(r);
    boolean ended;
    try {
      ended = processes.terminate(r, grace, removeContainer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient(id, zone, "INTERRUPTED", "interrupted while ending " + name, e);
    }
    if (!ended) {
      throw new ProviderException.Transient(id, zone, "PROCESS_SURVIVED",
          "processes " + processes.members(r) + " of " + name + " survived SIGKILL", null);
    }
    if (!containerRemoved[0] && !removeContainer(r)) {
      throw new ProviderException.Transient(id, zone, "CONTAINER_NOT_REMOVED",
          "could not remove container " + r.containerName() + " with " + r.runtime(), null);
    }
    deleteState(name);
    log.info("released local attempt {} (pid {}, devices {})", name, r.pid(), r.devices());
  }

  /**
   * The record of {@code name}, never one caught half way through a provision: a provision holds
   * the lock from creating the folder until the pid is recorded, so when the folder has no record
   * yet, or a record without a pid, this reads it again under the lock. What it then finds is the
   * leftover of a crash (an empty folder counts as nothing; a record without a pid is found by
   * its marker).
   */
  private Optional<AttemptRecord> settledRecord(String name) {
    Optional<AttemptRecord> rec = store.read(name);
    if (rec.isEmpty() ? store.exists(name) : rec.get().pid() <= 0) {
      rec = store.locked(() -> store.read(name));
    }
    return rec;
  }

  private boolean removeContainer(AttemptRecord r) {
    if (r.containerName().isEmpty()) {
      return true;
    }
    try {
      return ContainerRuntime.of(Path.of(r.runtime())).remove(r.containerName(), baseEnv, helperTimeout, store.scratchDir());
    } catch (IOException e) {
      log.warn("cannot remove container {} of {}: {}", r.containerName(), r.name(), e.toString());
      return false;
    }
  }

  private void deleteState(String name) {
    try {
      store.delete(name);
    } catch (IOException e) {
      throw new ProviderException.Transient(id, zone, "IO_ERROR", "cannot delete the state of " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the attempt's {@code stdout.log} or {@code stderr.log} in {@code <log directory>/<resource
   * name>/}, which stays after release, so a finished attempt's output can be read too, also by
   * another process that builds a provider on the same directories. Positions are byte offsets.
   */
  @Override
  public LogChunk readLog(Attempt attempt, LogSource.Stream stream, long position, int maxLines) {
    Objects.requireNonNull(attempt, "attempt");
    Objects.requireNonNull(stream, "stream");
    if (!attempt.offer().providerId().equals(id)) {
      throw new IllegalArgumentException("attempt: ran on provider " + attempt.offer().providerId() + ", not on " + id);
    }
    if (!attempt.resourceName().matches("[a-z]([-a-z0-9]{0,38}[a-z0-9])?")) {
      // The name comes from a store; a crafted one must not read a file outside the log directory.
      throw new IllegalArgumentException("attempt.resourceName is not a resource name: '" + attempt.resourceName() + "'");
    }
    Path file = logDir.resolve(attempt.resourceName()).resolve(stream == LogSource.Stream.STDOUT ? STDOUT_FILE : STDERR_FILE);
    return guarded(() -> LogFiles.read(file, position, maxLines, !attempt.isLive()));
  }

  @Override
  public List<ProvisionedResource> listOwned(String fleetId) {
    return guarded(() -> store.all().stream().filter(r -> r.fleet().equals(fleetId)).map(this::resource).toList());
  }

  /** Runs a call, reporting a file system failure as the transient failure it most likely is. */
  private <T> T guarded(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (UncheckedIOException e) {
      throw new ProviderException.Transient(id, zone, "IO_ERROR", String.valueOf(e.getMessage()), e);
    }
  }

  @Override
  public String toString() {
    return "LocalProvider{id=" + id + ", zone=" + zone + ", gpus="
        + gpus.stream().map(g -> g.index() + ":" + g.type().id()).toList() + ", cpuSlots=" + cpuSlots
        + ", state=" + store.stateDir() + ", logs=" + logDir + "}";
  }

  /** The GPUs found at build time. */
  List<GpuDevice> gpus() {
    return gpus;
  }

  AttemptStore store() {
    return store;
  }

  ProcessTree processes() {
    return processes;
  }

  private ProvisionedResource resource(AttemptRecord r) {
    return new ProvisionedResource(id, r.name(), zone, Map.of(
        ATTR_LOG_DIR, r.logDir().toString(),
        ATTR_DEVICES, devicesText(r),
        ATTR_PID, Long.toString(r.pid())));
  }

  private static Map<String, String> statusAttributes(AttemptRecord r) {
    return Map.of(
        ATTR_LOG_DIR, r.logDir().toString(),
        ATTR_STDOUT, r.logDir().resolve(STDOUT_FILE).toString(),
        ATTR_STDERR, r.logDir().resolve(STDERR_FILE).toString(),
        ATTR_DEVICES, devicesText(r),
        ATTR_PID, Long.toString(r.pid()));
  }

  private static String devicesText(AttemptRecord r) {
    return r.devices().stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  private static String shellName(AttemptRecord r) {
    return r.pid() > 0 ? "pid " + r.pid() : "process (pid not recorded)";
  }

  private static String onDevices(AttemptRecord r) {
    return r.devices().isEmpty() ? "" : " on GPU " + devicesText(r);
  }

  private Offer ourOffer(Offer asked) {
    Offer ours = offersByMachineType.get(asked.machineType());
    if (!asked.providerId().equals(id) || ours == null || !asked.zone().equals(zone)
        || !asked.shape().equals(ours.shape())) {
      throw new ProviderException.InvalidRequest(id, zone, "UNKNOWN_OFFER",
          "offer " + asked.key() + " is not one of this machine's offers " + offersByMachineType.keySet(), null);
    }
    return ours;
  }

  private ContainerRuntime requireRuntime() {
    ContainerRuntime rt = runtime;
    if (rt != null) {
      return rt;
    }
    Optional<Path> exe = configuredRuntime != null
        ? Commands.findExecutable(configuredRuntime.toString(), null)
        : Commands.findExecutable("docker", baseEnv.get("PATH"))
            .or(() -> Commands.findExecutable("podman", baseEnv.get("PATH")));
    if (exe.isEmpty()) {
      throw new ProviderException.InvalidRequest(id, zone, "NO_CONTAINER_RUNTIME",
          configuredRuntime != null
              ? "container runtime " + configuredRuntime + " is not an executable file"
              : "container workloads need docker or podman, and neither is on PATH " + baseEnv.get("PATH")
                  + "; install one or set LocalProvider.builder(...).containerRuntime(path)", null);
    }
    ContainerRuntime candidate = ContainerRuntime.of(exe.get());
    String why = candidate.probe(baseEnv, helperTimeout, store.scratchDir());
    if (why != null) {
      throw new ProviderException.InvalidRequest(id, zone, "CONTAINER_RUNTIME_UNUSABLE",
          "container workloads cannot run here: " + why, null);
    }
    runtime = candidate;
    return candidate;
  }

  private List<Offer> buildOffers(PriceCatalog prices) {
    List<Offer> out = new ArrayList<>();
    Map<AcceleratorType, Integer> counts = new LinkedHashMap<>();
    gpus.forEach(g -> counts.merge(g.type(), 1, Integer::sum));
    counts.forEach((type, n) -> {
      Money perDevice = price(prices, type.id());
      for (int c : new int[] {1, 2, 4, 8}) {
        if (c <= n) {
          out.add(new Offer(id, REGION, zone, Shapes.gpu(type, c), type.id() + "-x" + c, perDevice.times(c), null, n / c));
        }
      }
    });
    if (cpuSlots > 0) {
      out.add(new Offer(id, REGION, zone, Shapes.cpu(), CPU_MACHINE_TYPE, price(prices, CPU_MACHINE_TYPE), null, cpuSlots));
    }
    return List.copyOf(out);
  }

  private Money price(PriceCatalog prices, String sku) {
    return prices.find(id, sku, REGION).map(PriceCatalog.Prices::onDemand).orElse(Money.ZERO);
  }

  private static Map<String, String> baseEnvironment(Builder b) {
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> jvm = System.getenv();
    if (b.inheritEnvironment) {
      env.putAll(jvm);
    } else {
      for (String name : b.passedEnv) {
        String v = jvm.get(name);
        if (v != null) {
          env.put(name, v);
        }
      }
    }
    env.keySet().removeIf(k -> k.startsWith(Workload.RESERVED_ENV_PREFIX) || k.equals("CUDA_VISIBLE_DEVICES"));
    env.putAll(b.fixedEnv);
    env.putIfAbsent("PATH", FALLBACK_PATH);
    return Map.copyOf(env);
  }

  private static String defaultHostName() {
    try {
      String h = Files.readString(Path.of("/etc/hostname"), StandardCharsets.UTF_8).strip();
      if (!h.isEmpty()) {
        return h;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or unreadable: try the next source
    }
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "host";
    }
  }

  /** The first label of a host name, made of lowercase letters, digits and '-'. */
  static String sanitizeHost(String host) {
    String first = host.strip().toLowerCase(Locale.ROOT);
    int dot = first.indexOf('.');
    if (dot > 0) {
      first = first.substring(0, dot);
    }
    String s = first.replaceAll("[^a-z0-9-]+", "-").replaceAll("-{2,}", "-").replaceAll("^-+|-+$", "");
    if (s.length() > 40) {
      s = s.substring(0, 40).replaceAll("-+$", "");
    }
    return s.isEmpty() ? "host" : s;
  }

  /**
   * Configures a {@link LocalProvider}. {@link #build()} copies the settings, runs GPU discovery
   * and creates the directories.
   */
  public static final class Builder {
    private final Path stateDirectory;
    private String id = DEFAULT_ID;
    private String hostName;
    private Path logDirectory;
    private String nvidiaSmi = "nvidia-smi";
    private final Map<String, AcceleratorType> gpuTypes = new LinkedHashMap<>();
    private PriceCatalog priceCatalog = PriceCatalog.defaults();
    private int cpuSlots = Runtime.getRuntime().availableProcessors();
    private Path containerRuntime;
    private Duration terminationGrace = Duration.ofSeconds(10);
    private Duration helperTimeout = Duration.ofSeconds(20);
    private final Set<String> passedEnv = new LinkedHashSet<>(DEFAULT_PASSED_ENV);
    private boolean inheritEnvironment;
    private final Map<String, String> fixedEnv = new LinkedHashMap<>();
    private ProviderLimits limits;

    private Builder(Path stateDirectory) {
      this.stateDirectory = Objects.requireNonNull(stateDirectory, "stateDirectory");
    }

    /** The provider id, for example {@code local} (the default) or {@code lab-gpu-box}. */
    public Builder id(String id) {
      Objects.requireNonNull(id, "id");
      if (!id.matches("[a-z][a-z0-9-]{0,39}")) {
        throw new IllegalArgumentException("id must match [a-z][a-z0-9-]{0,39}, got '" + id + "'");
      }
      this.id = id;
      return this;
    }

    /** The host name in the zone ({@code local-<host>}); default this machine's host name. */
    public Builder hostName(String hostName) {
      this.hostName = Objects.requireNonNull(hostName, "hostName");
      return this;
    }

    /**
     * Where each attempt's folder ({@code stdout.log}, {@code stderr.log}, {@code exit-code}, and
     * the workload's working directory) is made; default {@code <state directory>/logs}.
     */
    public Builder logDirectory(Path logDirectory) {
      this.logDirectory = Objects.requireNonNull(logDirectory, "logDirectory");
      return this;
    }

    /** The {@code nvidia-smi} to run: a path, or a name looked up on {@code PATH} (the default). */
    public Builder nvidiaSmi(String command) {
      Objects.requireNonNull(command, "nvidiaSmi");
      if (command.isBlank()) {
        throw new IllegalArgumentException("nvidiaSmi must be a command name or path, got a blank string");
      }
      this.nvidiaSmi = command;
      return this;
    }

    /**
     * Maps a GPU name exactly as {@code nvidia-smi} prints it (case-insensitive), for example
     * {@code "NVIDIA GeForce RTX 4090"}, to a catalog type; wins over the built-in mapping.
     */
    public Builder gpuType(String nvidiaSmiName, AcceleratorType type) {
      Objects.requireNonNull(nvidiaSmiName, "nvidiaSmiName");
      Objects.requireNonNull(type, "type");
      if (type.family() != AcceleratorFamily.GPU) {
        throw new IllegalArgumentException("type: " + type.id() + " is not a GPU");
      }
      gpuTypes.put(nvidiaSmiName.strip(), type);
      return this;
    }

    /**
     * Prices per device-hour, looked up as (provider id, type id or {@code cpu}, region {@code
     * local}); default {@link PriceCatalog#defaults()}, which has no local rows, so every offer
     * costs 0.
     */
    public Builder priceCatalog(PriceCatalog priceCatalog) {
      this.priceCatalog = Objects.requireNonNull(priceCatalog, "priceCatalog");
      return this;
    }

    /**
     * How many CPU-only attempts may run at once (the CPU offer's capacity); default the number
     * of processors; 0 offers no CPU shape.
     */
    public Builder cpuSlots(int slots) {
      if (slots < 0) {
        throw new IllegalArgumentException("cpuSlots must be >= 0, got " + slots);
      }
      this.cpuSlots = slots;
      return this;
    }

    /**
     * The container runtime CLI for container workloads; default {@code docker}, else {@code
     * podman}, found on {@code PATH}. A file name starting with {@code podman} selects Podman's
     * GPU flags.
     */
    public Builder containerRuntime(Path executable) {
      this.containerRuntime = Objects.requireNonNull(executable, "containerRuntime").toAbsolutePath();
      return this;
    }

    /** How long {@code release} waits after SIGTERM before SIGKILL; default 10 s. */
    public Builder terminationGrace(Duration grace) {
      Objects.requireNonNull(grace, "terminationGrace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("terminationGrace must be >= 0, got " + grace);
      }
      this.terminationGrace = grace;
      return this;
    }

    /**
     * The longest a helper command ({@code nvidia-smi}, {@code docker info}, {@code docker rm})
     * may take; default 20 s.
     */
    public Builder helperTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "helperTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("helperTimeout must be positive, got " + timeout);
      }
      this.helperTimeout = timeout;
      return this;
    }

    /**
     * Also passes these variables from this JVM's environment to workloads. By default only
     * {@code PATH}, {@code HOME}, {@code USER}, locale, temp-directory and container-runtime
     * variables pass, so that the dispatcher's own credentials never reach a job.
     */
    public Builder passEnvironment(String... names) {
      for (String n : names) {
        passedEnv.add(Objects.requireNonNull(n, "name"));
      }
      return this;
    }

    /** Passes this JVM's whole environment to workloads (including any credentials in it). */
    public Builder inheritEnvironment() {
      this.inheritEnvironment = true;
      return this;
    }

    /**
     * Sets a variable for every workload and helper command, for example {@code PATH}; wins over
     * passed-through ones, loses to the job's own.
     */
    public Builder environment(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*") || name.startsWith(Workload.RESERVED_ENV_PREFIX)) {
        throw new IllegalArgumentException(
            "environment name must match [A-Za-z_][A-Za-z0-9_]* and not start with "
                + Workload.RESERVED_ENV_PREFIX + ", got '" + name + "'");
      }
      fixedEnv.put(name, value);
      return this;
    }

    /** The limits the engine uses with this provider; default suits local calls. */
    public Builder limits(ProviderLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Discovers the GPUs, creates the directories and builds the provider.
     *
     * @throws UncheckedIOException when the state or log directory cannot be created
     */
    public LocalProvider build() {
      return new LocalProvider(this);
    }
  }
}
