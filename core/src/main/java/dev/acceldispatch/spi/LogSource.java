package dev.acceldispatch.spi;

import dev.acceldispatch.Attempt;

/**
 * An optional capability of a {@link Provider}: it can read what an attempt's workload wrote, as
 * lines, while it runs and after it ended. A provider offers it by implementing this interface
 * too; callers test {@code provider instanceof LogSource}. A provider without it simply has no
 * log surface, which is not an error.
 *
 * <p>Reads are by position, so a follower asks again from {@link LogChunk#nextPosition()} and never
 * sees a line twice. What a position means is the source's own business (a byte offset into a
 * file, an offset into a cloud's serial console buffer); callers only pass back what they were
 * given, starting at 0.
 *
 * <p>Lines are the workload's own output. A source adds nothing to them; should it ever need to
 * (a marker for output the cloud dropped), it never adds a secret env value.
 *
 * <p>Thread-safe; may block for file or network I/O.
 */
public interface LogSource {

  /** Which of the workload's output streams to read. */
  enum Stream {
    /** Standard output; for a source with a single console (a VM's serial port) the whole console. */
    STDOUT,
    /** Standard error; empty for a source with a single console. */
    STDERR
  }

  /**
   * Reads up to {@code maxLines} lines of {@code attempt}'s {@code stream} from {@code position}.
   * While the attempt is live ({@link Attempt#isLive()}), only complete lines are returned, so a
   * line being written is never split; once it ended, a last line without a newline is returned
   * too.
   *
   * @param attempt the attempt, as the store holds it (its resource name and offer locate it)
   * @param stream standard output or standard error
   * @param position 0, or a {@link LogChunk#nextPosition()} this source returned for the same
   *     attempt and stream
   * @param maxLines at least 1
   * @throws ProviderException when the cloud refuses or fails the read
   */
  LogChunk readLog(Attempt attempt, Stream stream, long position, int maxLines);
}
