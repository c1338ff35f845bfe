package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class QuickStartTest {

  @Test
  @Timeout(60)
  void main_oneShellJobOnThisMachine_printsSucceededAndTheOutputFile() throws Exception {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    try {
      QuickStart.main(new String[0]);
    } finally {
      System.setOut(original);
    }

    String out = buffer.toString(StandardCharsets.UTF_8).strip();
    assertThat(out).startsWith("SUCCEEDED, output in ");
    Path stdout = Path.of(out.substring("SUCCEEDED, output in ".length()));
    assertThat(Files.readString(stdout)).startsWith("hello from ");
    // The quick start keeps its temp folder so the user can read the output; the test removes it.
    deleteTree(stdout.getParent().getParent().getParent());
  }

  private static void deleteTree(Path root) throws Exception {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
