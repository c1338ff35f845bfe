package dev.acceldispatch.spi;

import java.util.List;
import java.util.Objects;

/**
 * Lines read from a {@link LogSource}, and where the next read starts.
 *
 * @param lines the lines, without their line terminators; empty when nothing new was written
 * @param nextPosition where to read next (equal to the position read from when nothing was new)
 */
public record LogChunk(List<String> lines, long nextPosition) {

  /** Validates and copies. */
  public LogChunk {
    lines = List.copyOf(Objects.requireNonNull(lines, "lines"));
    if (nextPosition < 0) {
      throw new IllegalArgumentException("nextPosition must be >= 0, got " + nextPosition);
    }
  }
}
