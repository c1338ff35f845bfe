package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.event.DispatchEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private static final Offer OFFER = Offer.of("gcp-gpu", "us-central1", "us-central1-a",
      Shapes.gpu(AcceleratorType.NVIDIA_T4, 1), "n1-standard-4", Money.usd("0.54"), Money.usd("0.18"));

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  private Progress progress(boolean live) {
    Progress p = new Progress(new PrintStream(buffer, true, StandardCharsets.UTF_8), live, List.of("gcp-gpu"));
    p.expect(1);
    Instant now = Instant.now();
    p.onEvent(new DispatchEvent.JobSubmitted(now, "j1", "train", "prod"));
    p.onEvent(new DispatchEvent.AttemptStarted(now, "j1", 1, OFFER, false, "r1"));
    p.onEvent(new DispatchEvent.JobStateChanged(now, "j1", JobState.QUEUED, JobState.PROVISIONING, ""));
    return p;
  }

  @Test
  void render_onATerminal_redrawsTheBlockInPlace() {
    Progress p = progress(true);
    p.render(false);
    p.onEvent(new DispatchEvent.JobStateChanged(Instant.now(), "j1", JobState.PROVISIONING, JobState.RUNNING, "running"));
    p.render(false);

    String out = buffer.toString(StandardCharsets.UTF_8);
    assertThat(out).contains("\033[3F\033[J").contains("gcp-gpu    provisioning  0   running  1   done  0");
  }

  @Test
  void render_notATerminal_printsPlainLinesOnly() {
    Progress p = progress(false);
    p.render(false);
    p.onEvent(new DispatchEvent.JobStateChanged(Instant.now(), "j1", JobState.PROVISIONING, JobState.SUCCEEDED, "done"));
    p.render(true);

    String out = buffer.toString(StandardCharsets.UTF_8);
    assertThat(out).doesNotContain("\033")
        .contains("train            attempt 1 on gcp-gpu/us-central1-a/n1-standard-4")
        .contains("PROVISIONING -> SUCCEEDED: done")
        .contains("[##############################] 1/1 jobs done");
  }
}
