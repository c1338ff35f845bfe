package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Regressions from a new user's first hour with the samples, named after what tripped them. */
class NewcomerSamplesTest {

  @Test
  void demoLogFile_twoRuns_neverWriteTheSameFile() throws Exception {
    Path first = Demo.newLogFile();
    Path second = Demo.newLogFile();
    try {
      assertThat(first).isNotEqualTo(second);
      assertThat(first.getFileName().toString()).startsWith("accel-dispatch-demo-").endsWith(".log");
    } finally {
      Files.deleteIfExists(first);
      Files.deleteIfExists(second);
    }
  }

  @Test
  void demoLogFile_logDirGiven_isWrittenThereNotInTheTempDirectory(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    String before = System.getProperty("accel.demo.logDir");
    System.setProperty("accel.demo.logDir", dir.resolve("demo-logs").toString());
    try {
      Path log = Demo.newLogFile();
      assertThat(log.getParent()).isEqualTo(dir.resolve("demo-logs"));
      assertThat(log).exists();
    } finally {
      if (before == null) {
        System.clearProperty("accel.demo.logDir");
      } else {
        System.setProperty("accel.demo.logDir", before);
      }
    }
  }

  @Test
  void realCloudsAzureMessage_saysSeeInnerException_showsTheInnerOne() {
    RuntimeException inner = new IllegalStateException("EnvironmentCredential authentication unavailable. Environment variables are not fully configured.\nmore");
    RuntimeException top = new RuntimeException("DefaultAzureCredential failed to retrieve a token; see inner exception", inner);

    assertThat(RealClouds.withCauses(top))
        .isEqualTo("DefaultAzureCredential failed to retrieve a token; see inner exception; caused by: "
            + "EnvironmentCredential authentication unavailable. Environment variables are not fully configured.");
  }
}
