package dev.acceldispatch.gcp.gpu;

import dev.acceldispatch.spi.LogChunk;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one {@code instances.getSerialPortOutput} answer into lines by byte position. Positions are
 * the API's own: byte offsets into everything the port ever received, so a position handed back
 * as {@code start} continues exactly where the last read stopped.
 */
final class SerialConsole {
  private SerialConsole() {}

  /**
   * The marker line for output Compute Engine discarded before it was read (its buffer keeps the
   * last 1 MB). It states a count of bytes and nothing from the workload, so it can carry no secret.
   */
  static String discardedMarker(long bytes) {
    return "[acceldispatch: " + bytes + " bytes of serial console output were discarded by Compute Engine before they were read]";
  }

  /**
   * Up to {@code maxLines} lines of {@code contents}, which the API says begins at byte {@code
   * start} (later than {@code requested} when the requested bytes were discarded). With {@code
   * ended} false only complete lines are returned; with it true a trailing line without a newline
   * is too. A trailing {@code \r} (the console's line ending) is dropped.
   */
  static LogChunk lines(long requested, long start, String contents, int maxLines, boolean ended) {
    List<String> lines = new ArrayList<>();
    // contents begin where the API says, whatever was asked
    long from = start;
    if (start > requested) {
      lines.add(discardedMarker(start - requested));
    }
    byte[] bytes = contents.getBytes(StandardCharsets.UTF_8);
    int lineStart = 0;
    int consumed = 0;
    for (int i = 0; i < bytes.length && lines.size() < maxLines; i++) {
      if (bytes[i] == '\n') {
        lines.add(decode(bytes, lineStart, i));
        lineStart = i + 1;
        consumed = lineStart;
      }
    }
    if (ended && consumed < bytes.length && lines.size() < maxLines && indexOfNewline(bytes, consumed) < 0) {
      lines.add(decode(bytes, consumed, bytes.length));
      consumed = bytes.length;
    }
    return new LogChunk(lines, from + consumed);
  }

  private static int indexOfNewline(byte[] bytes, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static String decode(byte[] bytes, int from, int to) {
    int end = to > from && bytes[to - 1] == '\r' ? to - 1 : to;
    return new String(bytes, from, end - from, StandardCharsets.UTF_8);
  }
}
