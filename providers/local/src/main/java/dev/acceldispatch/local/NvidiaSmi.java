package dev.acceldispatch.local;

import dev.acceldispatch.AcceleratorType;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovers the local NVIDIA GPUs with {@code nvidia-smi
 * --query-gpu=index,name,memory.total,uuid --format=csv,noheader}.
 *
 * <p>A machine without {@code nvidia-smi}, or one where it fails (no driver loaded), has no GPUs:
 * that is logged, not thrown, so the provider still offers its CPU shape. GPUs whose names map to no
 * catalog type are skipped with a warning that says how to map them.
 */
final class NvidiaSmi {
  static final List<String> QUERY =
      List.of("--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader");
  private static final Logger log = LoggerFactory.getLogger(NvidiaSmi.class);

  private NvidiaSmi() {}

  /** Runs {@code command} and returns the GPUs it lists, ordered by index. */
  static List<GpuDevice> discover(
      String command, Map<String, String> env, GpuTypes types, Duration timeout, Path scratchDir) {
    Optional<Path> exe = Commands.findExecutable(command, env.get("PATH"));
    if (exe.isEmpty()) {
      log.info("no GPUs: '{}' not found; offering CPU only", command);
      return List.of();
    }
    List<String> argv = new ArrayList<>();
    argv.add(exe.get().toString());
    argv.addAll(QUERY);
    Commands.Result r;
    try {
      r = Commands.run(argv, env, timeout, scratchDir);
    } catch (IOException e) {
      log.warn("no GPUs: could not run {}: {}", exe.get(), e.toString());
      return List.of();
    }
    if (r.timedOut()) {
      log.warn("no GPUs: {} did not answer within {}", exe.get(), timeout);
      return List.of();
    }
    if (r.exitCode() != 0) {
      log.warn("no GPUs: {} exited with {}: {}", exe.get(), r.exitCode(), r.firstLine());
      return List.of();
    }
    return parse(r.stdout(), types);
  }

  /** Parses the CSV lines; skips (and logs) lines it cannot read and GPUs of unknown types. */
  static List<GpuDevice> parse(String csv, GpuTypes types) {
    List<GpuDevice> gpus = new ArrayList<>();
    for (String raw : csv.split("\\R")) {
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      // index, name, memory.total, uuid; a name could hold a comma, so take the ends first.
      String[] f = line.split(",");
      if (f.length < 4) {
        log.warn("skipping nvidia-smi line '{}': expected index, name, memory.total, uuid", line);
        continue;
      }
      int index;
      try {
        index = Integer.parseInt(f[0].strip());
      } catch (NumberFormatException e) {
        log.warn("skipping nvidia-smi line '{}': bad index", line);
        continue;
      }
      String uuid = f[f.length - 1].strip();
      long memoryMib = parseMib(f[f.length - 2]);
      String name = String.join(",", List.of(f).subList(1, f.length - 2)).strip();
      Optional<AcceleratorType> type = types.typeOf(name, memoryMib);
      if (type.isEmpty()) {
        log.warn(
            "GPU {} '{}' matches no catalog type and is not offered; map it with"
                + " LocalProvider.builder(...).gpuType(\"{}\", type)", index, name, name);
        continue;
      }
      gpus.add(new GpuDevice(index, name, memoryMib, uuid, type.get()));
    }
    gpus.sort(Comparator.comparingInt(GpuDevice::index));
    return List.copyOf(gpus);
  }

  /** {@code "81559 MiB"} to 81559; anything unreadable ({@code [N/A]}) to 0. */
  static long parseMib(String field) {
    String s = field.strip();
    int space = s.indexOf(' ');
    String number = space < 0 ? s : s.substring(0, space);
    try {
      return Long.parseLong(number);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
