package dev.acceldispatch.local;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProvisionRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A fake machine for the local provider's tests: a temp folder with a state directory, a log
 * directory, and fake {@code nvidia-smi} and {@code docker} scripts that record how they were
 * called.
 */
final class FakeHost {
  private static final AtomicInteger SEQ = new AtomicInteger();

  final Path root;
  final Path bin;
  final Path state;
  final Path logs;
  final Path records;

  FakeHost(Path root) {
    this.root = root;
    this.bin = root.resolve("bin");
    this.state = root.resolve("state");
    this.logs = root.resolve("logs");
    this.records = root.resolve("records");
    try {
      Files.createDirectories(bin);
      Files.createDirectories(records);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A provider builder on this host: no GPUs, 4 CPU slots, a short grace period. */
  LocalProvider.Builder builder() {
    return LocalProvider.builder(state)
        .logDirectory(logs)
        .hostName("testhost")
        .nvidiaSmi(root.resolve("no-such-nvidia-smi").toString())
        .cpuSlots(4)
        .terminationGrace(Duration.ofSeconds(2))
        .helperTimeout(Duration.ofSeconds(10));
  }

  /** A builder whose {@code nvidia-smi} lists {@code n} GPUs named {@code name}. */
  LocalProvider.Builder builderWithGpus(int n, String name, int memoryMib) {
    return builder().nvidiaSmi(nvidiaSmi(n, name, memoryMib).toString());
  }

  /** A fake {@code nvidia-smi} listing {@code n} GPUs; it records its arguments. */
  Path nvidiaSmi(int n, String name, int memoryMib) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      lines.append(i).append(", ").append(name).append(", ").append(memoryMib).append(" MiB, GPU-")
          .append(String.format("%08x-1111-2222-3333-%012d", i, i)).append('\n');
    }
    return script("nvidia-smi-" + n,
        "printf '%s\\n' \"$@\" > " + quote(records.resolve("nvidia-smi.args")) + "\n"
            + "cat <<'EOF'\n" + lines + "EOF\n");
  }

  /** A fake {@code nvidia-smi} printing {@code csv} as is (and exiting {@code exitCode}). */
  Path nvidiaSmiPrinting(String fileName, String csv, int exitCode) {
    return script(fileName, "cat <<'EOF'\n" + csv + "EOF\nexit " + exitCode + "\n");
  }

  /**
   * A fake container runtime named {@code fileName}: {@code info} fails when the file {@code
   * broken} exists in the records folder; {@code rm} is recorded; {@code run} records its argv
   * (NUL-separated) and the value of {@code $TOKEN}, then sleeps {@code $FAKE_SLEEP} seconds if the
   * job set it, and exits {@code $FAKE_EXIT} (default 0).
   */
  Path docker(String fileName) {
    String r = quote(records);
    return script(fileName,
        "case \"$1\" in\n"
            + "info) if [ -e " + r + "/broken ]; then\n"
            + "  echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\n"
            + "  exit 1; fi; exit 0;;\n"
            + "rm) printf '%s\\n' \"$*\" >> " + r + "/rm.log; exit 0;;\n"
            + "run) for a in \"$@\"; do printf '%s\\0' \"$a\"; done > " + r + "/run-$$.argv\n"
            + "  printf '%s' \"${TOKEN-unset}\" > " + r + "/run-$$.token\n"
            + "  if [ -n \"$FAKE_SLEEP\" ]; then sleep \"$FAKE_SLEEP\"; fi\n"
            + "  exit \"${FAKE_EXIT:-0}\";;\n"
            + "esac\n"
            + "echo \"fake docker: unknown command $1\" >&2; exit 2\n");
  }

  /** The argv of every {@code run} the fake runtime saw. */
  List<List<String>> dockerRuns() {
    List<List<String>> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(records)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".argv")).sorted().toList()) {
        String all = Files.readString(f, StandardCharsets.UTF_8);
        List<String> argv = new ArrayList<>(List.of(all.split("\0", -1)));
        argv.remove(argv.size() - 1);
        out.add(argv);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  Path script(String fileName, String body) {
    Path p = bin.resolve(fileName);
    try {
      Files.writeString(p, "#!/bin/sh\n" + body, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  /** A request with a fresh resource name for {@code offer}. */
  static ProvisionRequest request(String fleet, Offer offer, Workload workload) {
    int n = SEQ.incrementAndGet();
    String job = "lt" + Long.toString(System.nanoTime() % 1_000_000_000L, 36) + n;
    return new ProvisionRequest("ad-" + job + "-a1", fleet, job, 1, offer, false,
        workload.withEngineEnv(Map.of("ACCEL_DISPATCH_JOB_ID", job, "ACCEL_DISPATCH_ATTEMPT", "1")),
        Map.of("team", "local-tests"), null);
  }

  static Offer offer(LocalProvider p, String machineType) {
    return p.offers().stream().filter(o -> o.machineType().equals(machineType)).findFirst()
        .orElseThrow(() -> new AssertionError("no offer " + machineType + " in " + p.offers()));
  }

  static String quote(Path p) {
    return "'" + p.toString().replace("'", "'\\''") + "'";
  }
}
