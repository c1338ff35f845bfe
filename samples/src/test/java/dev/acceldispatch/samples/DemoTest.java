package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's first command, run in-process: the same code path as {@code exec:java}. */
class DemoTest {

  @Test
  @Timeout(150)
  void run_threeEmulatedCloudsAndLocal_everyJobEndsAsExpectedAndNothingLeaks() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    int status = Demo.run(new PrintStream(buffer, true, StandardCharsets.UTF_8), false);

    String out = buffer.toString(StandardCharsets.UTF_8);
    assertThat(status).as(out).isZero();
    assertThat(out)
        .contains("11/11 jobs succeeded")
        .contains("capacity in gcp-tpu/")
        .contains("quota in gcp-gpu/")
        .contains("preempted in ")
        .contains("The local job wrote: hello from ")
        .contains("OK: every job ended as expected")
        .doesNotContain("\033[");
    dev.acceldispatch.testkit.Await.noThreadAlive("azure-emulator-", Duration.ofSeconds(10));
  }
}
