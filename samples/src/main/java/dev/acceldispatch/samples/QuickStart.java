package dev.acceldispatch.samples;

import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.local.LocalProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The README's ten lines: one job, one provider (this machine). Run it with {@code ./mvnw -B -ntp
 * -q -pl samples -am verify -DskipTests -Pdemo -Dsample.main=dev.acceldispatch.samples.QuickStart}.
 */
public final class QuickStart {
  private QuickStart() {}

  /** Runs one shell job on this machine and prints how it ended. */
  public static void main(String[] args) throws IOException {
    Path home = Files.createTempDirectory("accel-quickstart");
    try (Dispatcher dispatcher = Dispatcher.builder()
        .provider(LocalProvider.builder(home.resolve("state")).logDirectory(home.resolve("logs")).build())
        .build()) {
      JobSpec spec = JobSpec.builder("hello").script("echo hello from $ACCEL_DISPATCH_JOB_ID")
          .accelerators(Shapes.cpu()).build();
      JobResult result = dispatcher.submit(spec).result().join();
      System.out.println(result.state() + ", output in " + result.attributes().get("log.stdout"));
    }
  }
}
