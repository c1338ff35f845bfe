package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.spi.LogChunk;
import org.junit.jupiter.api.Test;

class SerialConsoleTest {

  @Test
  void lines_crlfAndMultiByteCharacters_positionsAreBytes() {
    LogChunk c = SerialConsole.lines(7, 7, "é1\r\nx\n", 10, false);

    assertThat(c.lines()).containsExactly("é1", "x");
    assertThat(c.nextPosition()).isEqualTo(7 + 7);
  }

  @Test
  void lines_discardedOutput_markerCountsAgainstMaxLinesAndHoldsOnlyACount() {
    LogChunk c = SerialConsole.lines(0, 100, "a\nb\n", 2, true);

    assertThat(c.lines()).containsExactly(SerialConsole.discardedMarker(100), "a");
    assertThat(c.nextPosition()).isEqualTo(102);
    assertThat(SerialConsole.discardedMarker(100)).matches("[^0-9]*100[^0-9]*");
  }

  @Test
  void lines_endedWithMoreCompleteLinesLeft_doesNotReturnTheTailYet() {
    LogChunk c = SerialConsole.lines(0, 0, "a\nb\ntail", 1, true);

    assertThat(c.lines()).containsExactly("a");
    assertThat(c.nextPosition()).isEqualTo(2);
  }
}
