package dev.acceldispatch.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds and ends every process of one attempt, including grandchildren that were re-parented,
 * double-forked daemons and processes that started a session of their own.
 *
 * <p>A process belongs to the attempt when any of these holds: it is the recorded shell (same pid
 * <em>and</em> same start time, so a reused pid is never mistaken for it) or one of its
 * descendants; its environment carries the attempt's marker variable {@link #MARKER_VARIABLE} with
 * the attempt's token (every child inherits it); or it is in the attempt's process group while
 * that group still holds a process proven to be the attempt's (Linux never reuses a pid as a new
 * group id while the old group has members). The last two need {@code /proc}; elsewhere only the
 * first applies.
 */
final class ProcessTree {
  /** Set in every attempt's environment, so its processes can be found after anything. */
  static final String MARKER_VARIABLE = "ACCEL_DISPATCH_LOCAL_TOKEN";

  private static final Path PROC = Path.of("/proc");
  /** Polls start fast (most processes end at once on SIGTERM) and slow down to this. */
  private static final long MAX_POLL_MILLIS = 100;
  private static final Duration KILL_PATIENCE = Duration.ofSeconds(5);

  private final boolean procfs = Files.isRegularFile(PROC.resolve("self").resolve("stat"));

  /** The fields of {@code /proc/<pid>/stat} this needs. */
  record Stat(long pid, char state, long ppid, long pgrp) {
    boolean live() {
      return state != 'Z' && state != 'X' && state != 'x';
    }
  }

  /** Whether {@code /proc} is there to read. */
  boolean procfs() {
    return procfs;
  }

  /** The stat of {@code pid}, if it exists and {@code /proc} is readable. */
  Optional<Stat> stat(long pid) {
    if (!procfs) {
      return Optional.empty();
    }
    try {
      String s = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
      // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ')'.
      int close = s.lastIndexOf(')');
      String[] f = s.substring(close + 2).split(" ");
      return Optional.of(new Stat(pid, f[0].charAt(0), Long.parseLong(f[1]), Long.parseLong(f[2])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code pid} is a running (not zombie) process. */
  boolean isLive(long pid) {
    if (procfs) {
      return stat(pid).map(Stat::live).orElse(false);
    }
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Whether the attempt's shell is still running: the pid is live and is the same process (same
   * start time; or, when the start time is unknown, it carries the attempt's marker).
   */
  boolean isShellAlive(AttemptRecord r) {
    if (r.pid() <= 0 || !isLive(r.pid())) {
      return false;
    }
    Optional<Long> start =
        ProcessHandle.of(r.pid()).flatMap(h -> h.info().startInstant()).map(i -> i.toEpochMilli());
    if (r.startMillis() > 0 && start.isPresent()) {
      return start.get() == r.startMillis();
    }
    return hasMarker(r.pid(), r.token());
  }

  /** Every live process of the attempt, never this JVM itself. */
  Set<Long> members(AttemptRecord r) {
    Set<Long> out = new LinkedHashSet<>();
    boolean shell = isShellAlive(r);
    if (shell) {
      out.add(r.pid());
      ProcessHandle.of(r.pid()).ifPresent(h -> h.descendants().forEach(d -> out.add(d.pid())));
    }
    if (procfs) {
      List<Stat> all = allProcesses();
      boolean groupIsOurs = shell && r.pgid() > 0;
      for (Stat st : all) {
        if (st.live() && hasMarker(st.pid(), r.token())) {
          out.add(st.pid());
          groupIsOurs |= r.pgid() > 0 && st.pgrp() == r.pgid();
        }
      }
      if (groupIsOurs) {
        for (Stat st : all) {
          if (st.live() && st.pgrp() == r.pgid()) {
            out.add(st.pid());
          }
        }
      }
    }
    out.remove(ProcessHandle.current().pid());
    out.removeIf(pid -> !isLive(pid));
    return out;
  }

  /**
   * Ends the attempt's processes: SIGTERM to each (and to any that appear meanwhile), SIGKILL to
   * what is left after {@code grace}, then waits a little for them to go.
   *
   * @param beforeKill run once after the grace period, before SIGKILL (stops a container, say)
   * @return true when none is left
   */
  boolean terminate(AttemptRecord r, Duration grace, Runnable beforeKill) throws InterruptedException {
    Set<Long> termed = new HashSet<>();
    long deadline = System.nanoTime() + grace.toNanos();
    long poll = 5;
    while (true) {
      Set<Long> pids = members(r);
      if (pids.isEmpty()) {
        return true;
      }
      for (long pid : pids) {
        if (termed.add(pid)) {
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        }
      }
      if (System.nanoTime() - deadline >= 0) {
        break;
      }
      Thread.sleep(Math.min(poll, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      poll = Math.min(poll * 2, MAX_POLL_MILLIS);
    }
    beforeKill.run();
    long killDeadline = System.nanoTime() + KILL_PATIENCE.toNanos();
    while (true) {
      Set<Long> pids = members(r);
      if (pids.isEmpty()) {
        return true;
      }
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
      if (System.nanoTime() - killDeadline >= 0) {
        return false;
      }
      Thread.sleep(MAX_POLL_MILLIS / 2);
    }
  }

  private List<Stat> allProcesses() {
    List<Stat> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, p -> isNumber(p.getFileName().toString()))) {
      for (Path d : dirs) {
        stat(Long.parseLong(d.getFileName().toString())).ifPresent(out::add);
      }
    } catch (IOException e) {
      // /proc vanished under us: nothing to find
    }
    return out;
  }

  /** Whether {@code pid}'s environment holds the attempt's marker (false when unreadable). */
  boolean hasMarker(long pid, String token) {
    if (!procfs) {
      return false;
    }
    try {
      byte[] env = Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("environ"));
      String needle = MARKER_VARIABLE + "=" + token;
      String text = new String(env, StandardCharsets.ISO_8859_1);
      int at = text.indexOf(needle);
      while (at >= 0) {
        boolean starts = at == 0 || text.charAt(at - 1) == '\0';
        int end = at + needle.length();
        boolean ends = end == text.length() || text.charAt(end) == '\0';
        if (starts && ends) {
          return true;
        }
        at = text.indexOf(needle, at + 1);
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static boolean isNumber(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
