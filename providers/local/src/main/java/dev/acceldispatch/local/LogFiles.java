package dev.acceldispatch.local;

import dev.acceldispatch.spi.LogChunk;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads lines of a growing log file by byte position. Positions are byte offsets, so a follower
 * never re-reads or skips a byte; lines are decoded as UTF-8 only once they are whole, so a
 * multi-byte character split across two writes is never mangled.
 */
final class LogFiles {
  /** The most bytes one read takes from the file, so a huge log is read in bounded steps. */
  static final int MAX_READ_BYTES = 1 << 20;

  private LogFiles() {}

  /**
   * Up to {@code maxLines} lines of {@code file} from byte {@code position}. With {@code ended}
   * false only complete lines are returned; with it true a trailing line without a newline is too.
   * A file that does not exist yet reads as empty.
   */
  static LogChunk read(Path file, long position, int maxLines, boolean ended) {
    if (position < 0) {
      throw new IllegalArgumentException("position must be >= 0, got " + position);
    }
    if (maxLines < 1) {
      throw new IllegalArgumentException("maxLines must be >= 1, got " + maxLines);
    }
    if (!Files.exists(file)) {
      return new LogChunk(List.of(), position);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (position >= size) {
        return new LogChunk(List.of(), position);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(MAX_READ_BYTES, size - position));
      while (buf.hasRemaining() && ch.read(buf, position + buf.position()) > 0) {
        // a file read may return fewer bytes than asked; keep reading until the buffer is full
      }
      buf.flip();
      boolean atEnd = position + buf.limit() >= size;
      List<String> lines = new ArrayList<>();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      long consumed = 0;
      long pending = 0;
      while (buf.hasRemaining() && lines.size() < maxLines) {
        byte b = buf.get();
        pending++;
        if (b == '\n') {
          lines.add(decode(line));
          line.reset();
          consumed += pending;
          pending = 0;
        } else {
          line.write(b);
        }
      }
      if (ended && atEnd && !buf.hasRemaining() && line.size() > 0 && lines.size() < maxLines) {
        lines.add(decode(line));
        consumed += pending;
      }
      return new LogChunk(lines, position + consumed);
    } catch (NoSuchFileException e) {
      return new LogChunk(List.of(), position);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static String decode(ByteArrayOutputStream line) {
    byte[] bytes = line.toByteArray();
    int n = bytes.length;
    if (n > 0 && bytes[n - 1] == '\r') {
      n--;
    }
    return new String(bytes, 0, n, StandardCharsets.UTF_8);
  }
}
