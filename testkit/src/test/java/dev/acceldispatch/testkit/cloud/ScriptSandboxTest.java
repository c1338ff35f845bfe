package dev.acceldispatch.testkit.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

class ScriptSandboxTest {

  /** Regression: every run left an {@code accel-sandbox*} directory in the temp directory (hundreds per test run). */
  @Test
  void run_finishedScript_leavesNoDirectoryButKeepsWhatItWrote() {
    ScriptSandbox.Result r = new ScriptSandbox().fake("curl", "printf '%s' \"$2\" > \"$SANDBOX/sub/put\"")
        .run("mkdir sub && printf hi > out.txt && curl --data 42 && docker run img", 3);

    assertThat(Files.exists(r.directory())).as("sandbox directory %s", r.directory()).isFalse();
    assertThat(r.file("out.txt")).isEqualTo("hi");
    assertThat(r.filesUnder("sub")).containsExactly(java.util.Map.entry("put", "42"));
    assertThat(r.files()).doesNotContainKeys("startup.sh", "bin/docker");
    assertThat(r.dockerArgv()).containsExactly("run", "img");
    assertThat(r.exitCode()).isEqualTo(3);
  }

  @Test
  void run_scriptPastItsTimeout_throwsAndStillDeletesItsDirectory(@TempDir Path root) throws Exception {
    ScriptSandbox sandbox = new ScriptSandbox().root(root).timeout(Duration.ofMillis(300));

    assertThatThrownBy(() -> sandbox.run("printf x > mark; sleep 30", 0))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("ran longer");
    try (var left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
  }
}
