package dev.acceldispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Regressions from a new user's first hour: each test is named after what tripped them. */
class NewcomerFixesTest {

  @Test
  void moneyToString_threeCentsAndLess_showTheirDigitsInsteadOfZero() {
    assertThat(Money.usd("0.03").toString()).isEqualTo("$0.03");
    assertThat(Money.usd("0.0041666").toString()).isEqualTo("$0.0042");
    assertThat(Money.usd("0.00000001").toString()).isEqualTo("$0.00000001");
    assertThat(Money.usd("0.5").toString()).isEqualTo("$0.50");
    assertThat(Money.usd("0.996").toString()).isEqualTo("$1.00");
    assertThat(Money.ZERO.toString()).isEqualTo("$0.00");
    assertThat(Money.usd("12.345").toString()).isEqualTo("$12.35");
  }

  @Test
  void shapesGpu_nullType_throwsNullPointerNamingTheField() {
    assertThatThrownBy(() -> Shapes.gpu(null, 1))
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("type:");
  }

  @Test
  void jobSpecBuild_nullName_throwsNullPointerNamingTheFieldAsItsJavadocSays() {
    assertThatThrownBy(() -> JobSpec.builder(null).script("true").accelerators(Shapes.cpu()).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("name:");
  }

  @Test
  void jobSpecBuild_scriptAndContainerBothSet_isRefusedNamingBoth() {
    assertThatThrownBy(() -> JobSpec.builder("x").container("alpine", "true").script("echo hi").accelerators(Shapes.cpu()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("container(...)").hasMessageContaining("script(...)");
    assertThatThrownBy(() -> JobSpec.builder("x").script("echo hi").container("alpine").accelerators(Shapes.cpu()).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jobSpecToBuilder_otherWorkloadKindOnTheCopy_replacesTheWorkload() {
    JobSpec container = JobSpec.builder("x").container("alpine", "true").accelerators(Shapes.cpu()).build();

    JobSpec script = container.toBuilder().script("echo hi").build();

    assertThat(script.workload().kind()).isEqualTo(Workload.Kind.SCRIPT);
  }

  @Test
  void jobQuery_reversedTimeBoundsOrBadLimit_areRefusedNamingTheField() {
    Instant t = Instant.parse("2026-03-01T00:00:00Z");
    assertThatThrownBy(() -> JobQuery.builder().submittedFrom(t).submittedBefore(t).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("submittedFrom");
    assertThatThrownBy(() -> JobQuery.builder().limit(0)).hasMessage("limit must be between 1 and 1000, got 0");
    assertThatThrownBy(() -> JobQuery.builder().tenant(" ").build()).hasMessageStartingWith("tenant must not be blank");
  }

  @Test
  void jobQueryMatches_everyFilterAndThePosition_areApplied() {
    Instant t = Instant.parse("2026-03-01T00:00:00Z");
    JobQuery q = JobQuery.builder().states(JobState.RUNNING).tenant("a").label("k", "v")
        .submittedFrom(t).submittedBefore(t.plusSeconds(10)).after(new JobQuery.Position(t.plusSeconds(5), "m")).build();

    assertThat(q.matches("l", JobState.RUNNING, t.plusSeconds(5), "a", Map.of("k", "v"))).isTrue();
    assertThat(q.matches("n", JobState.RUNNING, t.plusSeconds(5), "a", Map.of("k", "v"))).as("after the position").isFalse();
    assertThat(q.matches("a", JobState.QUEUED, t.plusSeconds(1), "a", Map.of("k", "v"))).isFalse();
    assertThat(q.matches("a", JobState.RUNNING, t.plusSeconds(1), "b", Map.of("k", "v"))).isFalse();
    assertThat(q.matches("a", JobState.RUNNING, t.plusSeconds(1), "a", Map.of("k", "w"))).isFalse();
    assertThat(q.matches("a", JobState.RUNNING, t.minusSeconds(1), "a", Map.of("k", "v"))).isFalse();
    assertThat(q.toBuilder().build()).isEqualTo(q);
  }
}
