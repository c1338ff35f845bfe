package dev.acceldispatch.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class DispatchEngineTest {

  @Test
  void runsInline_callerRunsExecutor_isInline_anotherThreadIsNot() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      assertThat(DispatchEngine.runsInline(Runnable::run)).isTrue();
      assertThat(DispatchEngine.runsInline(pool)).isFalse();
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void runsInline_shutDownExecutor_isRefusedNamingProviderExecutor() {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    pool.shutdown();
    assertThatThrownBy(() -> DispatchEngine.runsInline(pool)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("providerExecutor rejected a task");
  }
}
