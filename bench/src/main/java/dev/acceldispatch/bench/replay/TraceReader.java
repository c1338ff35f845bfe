package dev.acceldispatch.bench.replay;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a trace CSV of {@code ../shared/traces/} (both start with {@code job_id, submit_time_s,
 * gpu_count, duration_s}) and applies the window and the time scale.
 */
public final class TraceReader {
  private TraceReader() {}

  /**
   * Reads the jobs submitted in {@code [fromSeconds, fromSeconds + lengthSeconds)}, at most
   * {@code maxJobs}, with submit times shifted so that the window starts at zero and every time
   * (submit and duration) multiplied by {@code timeScale}. Durations are kept at least 1 s.
   */
  public static List<TraceJob> read(Path csv, long fromSeconds, long lengthSeconds, double timeScale, int maxJobs)
      throws IOException {
    if (!(timeScale > 0)) {
      throw new IllegalArgumentException("timeScale must be > 0, got " + timeScale);
    }
    List<TraceJob> out = new ArrayList<>();
    long until = lengthSeconds <= 0 ? Long.MAX_VALUE : fromSeconds + lengthSeconds;
    try (BufferedReader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
      String header = r.readLine();
      if (header == null || !header.startsWith("job_id,submit_time_s,gpu_count,duration_s")) {
        throw new IOException(csv + ": expected a header starting job_id,submit_time_s,gpu_count,duration_s, got " + header);
      }
      String line;
      while ((line = r.readLine()) != null && out.size() < maxJobs) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split(",", 5);
        long submit = Long.parseLong(f[1]);
        if (submit < fromSeconds) {
          continue;
        }
        if (submit >= until) {
          break;
        }
        long s = Math.round((submit - fromSeconds) * timeScale);
        long d = Math.max(1, Math.round(Long.parseLong(f[3]) * timeScale));
        out.add(new TraceJob(f[0], s, Integer.parseInt(f[2]), d));
      }
    }
    return out;
  }
}
