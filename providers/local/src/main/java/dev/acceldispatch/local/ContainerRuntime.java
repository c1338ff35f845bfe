package dev.acceldispatch.local;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A container runtime CLI, {@code docker} or {@code podman}, and the two ways they take GPUs:
 * Docker's {@code --gpus '"device=0,1"'} (NVIDIA Container Toolkit) and Podman's CDI {@code
 * --device nvidia.com/gpu=0}. Which one is decided by the executable's file name.
 *
 * @param executable the CLI
 * @param podman whether it is Podman
 */
record ContainerRuntime(Path executable, boolean podman) {

  static ContainerRuntime of(Path executable) {
    return new ContainerRuntime(
        executable, executable.getFileName().toString().toLowerCase(Locale.ROOT).startsWith("podman"));
  }

  /** {@code <runtime> run} arguments (after {@code --rm}) that pin {@code devices} and name it. */
  List<String> runArgs(String containerName, List<Integer> devices, Map<String, String> labels) {
    List<String> args = new ArrayList<>();
    args.add("--name");
    args.add(containerName);
    labels.forEach((k, v) -> {
      args.add("--label");
      args.add(k + "=" + v);
    });
    if (!devices.isEmpty()) {
      if (podman) {
        for (int d : devices) {
          args.add("--device");
          args.add("nvidia.com/gpu=" + d);
        }
      } else {
        // Docker reads --gpus as CSV, so a list of devices must be one double-quoted field.
        args.add("--gpus");
        args.add("\"device=" + devices.stream().map(String::valueOf).collect(Collectors.joining(",")) + "\"");
      }
    }
    return args;
  }

  /** Checks that the runtime answers {@code info}; returns why not, or null when it does. */
  String probe(Map<String, String> env, Duration timeout, Path scratchDir) {
    try {
      Commands.Result r = Commands.run(List.of(executable.toString(), "info"), env, timeout, scratchDir);
      if (r.timedOut()) {
        return executable + " info did not answer within " + timeout;
      }
      return r.exitCode() == 0 ? null : executable + " info exited with " + r.exitCode() + ": " + r.firstLine();
    } catch (IOException e) {
      return "cannot run " + executable + ": " + e.getMessage();
    }
  }

  /** Force-removes the named container; true when it is gone (or never existed). */
  boolean remove(String containerName, Map<String, String> env, Duration timeout, Path scratchDir) throws IOException {
    Commands.Result r =
        Commands.run(List.of(executable.toString(), "rm", "-f", containerName), env, timeout, scratchDir);
    if (r.timedOut()) {
      return false;
    }
    String text = (r.stderr() + r.stdout()).toLowerCase(Locale.ROOT);
    return r.exitCode() == 0 || text.contains("no such container") || text.contains("no container with name");
  }
}
