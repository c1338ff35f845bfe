package dev.acceldispatch.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state directory: one folder per live attempt under {@code attempts/}, holding {@code
 * state.properties} (an {@link AttemptRecord}), the startup script {@code run.sh} and, once the
 * workload ended, {@code exit-code}. A folder exists from provision until release; its presence is
 * what holds the attempt's devices.
 *
 * <p>Allocation runs under {@link #locked}: a lock in this JVM plus a file lock on {@code
 * allocation.lock}, so that two dispatchers sharing the directory never hand out the same GPU.
 */
final class AttemptStore {
  static final String STATE_FILE = "state.properties";
  static final String EXIT_FILE = "exit-code";
  static final String SCRIPT_FILE = "run.sh";
  private static final Pattern NAME = Pattern.compile("[a-z]([-a-z0-9]{0,38}[a-z0-9])?");
  private static final Logger log = LoggerFactory.getLogger(AttemptStore.class);

  private final Path stateDir;
  private final Path root;
  private final Path lockFile;
  /**
   * One lock per state directory per JVM: a file lock is held by the whole JVM, so two providers
   * of one JVM on the same directory must also exclude each other here.
   */
  private static final ConcurrentMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private final ReentrantLock jvmLock;

  AttemptStore(Path stateDir) {
    this.stateDir = stateDir;
    this.root = stateDir.resolve("attempts");
    this.lockFile = stateDir.resolve("allocation.lock");
    Path real;
    try {
      createPrivateDirectories(root);
      real = stateDir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create state directory " + root, e);
    }
    this.jvmLock = JVM_LOCKS.computeIfAbsent(real, k -> new ReentrantLock());
  }

  /** Creates {@code dir} and its parents, readable by this user only where the OS supports it. */
  static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectories(dir);
    }
  }

  /** Whether {@code name} can be a resource name (and so is safe as a folder name). */
  static boolean validName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  Path stateDir() {
    return stateDir;
  }

  /** A scratch folder for helper command output. */
  Path scratchDir() {
    return stateDir.resolve("tmp");
  }

  Path folder(String name) {
    if (!validName(name)) {
      throw new IllegalArgumentException("not a resource name: '" + name + "'");
    }
    return root.resolve(name);
  }

  boolean exists(String name) {
    return validName(name) && Files.isDirectory(root.resolve(name));
  }

  /** The record of {@code name}, if it has a complete one. */
  Optional<AttemptRecord> read(String name) {
    if (!validName(name)) {
      return Optional.empty();
    }
    Path file = root.resolve(name).resolve(STATE_FILE);
    try {
      AttemptRecord r = AttemptRecord.load(file);
      if (!r.name().equals(name)) {
        log.warn("ignoring state of '{}' found in the folder of '{}'", r.name(), name);
        return Optional.empty();
      }
      return Optional.of(r);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      log.warn("ignoring unreadable attempt state {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  /** Every complete record, in name order. */
  List<AttemptRecord> all() {
    List<AttemptRecord> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        String name = d.getFileName().toString();
        if (validName(name)) {
          read(name).ifPresent(out::add);
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root, e);
    }
    out.sort(Comparator.comparing(AttemptRecord::name));
    return out;
  }

  /** Names of folders that have no readable record (a provision that died half way). */
  List<String> incomplete() {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        String name = d.getFileName().toString();
        if (validName(name) && read(name).isEmpty()) {
          out.add(name);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root, e);
    }
    return out;
  }

  void write(AttemptRecord r) throws IOException {
    r.store(folder(r.name()).resolve(STATE_FILE));
  }

  /**
   * The exit code the attempt's script reported, if it did. An empty file counts as not yet
   * reported: the script creates it and then writes it, just before it exits, so a reader that
   * finds it empty and then the script gone reads it again and finds the code.
   */
  OptionalInt exitCode(String name) {
    Path f = folder(name).resolve(EXIT_FILE);
    try {
      String s = Files.readString(f, StandardCharsets.UTF_8).strip();
      return s.isEmpty() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(s));
    } catch (NoSuchFileException e) {
      return OptionalInt.empty();
    } catch (IOException | NumberFormatException e) {
      log.warn("unreadable exit code file {}: {}", f, e.toString());
      return OptionalInt.empty();
    }
  }

  /**
   * Removes an attempt's folder: first renamed away (so readers see it gone at once), then
   * deleted. Missing is fine.
   */
  void delete(String name) throws IOException {
    Path dir = folder(name);
    Path trash = root.resolve(".gone-" + name + "-" + UUID.randomUUID());
    try {
      Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      return;
    }
    deleteTree(trash);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Runs {@code action} holding the allocation lock of this JVM and of the state directory. */
  <T> T locked(Supplier<T> action) {
    jvmLock.lock();
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock lock = ch.lock();
      try {
        return action.get();
      } finally {
        lock.release();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock " + lockFile, e);
    } finally {
      jvmLock.unlock();
    }
  }
}
