package dev.acceldispatch.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ResourceNamesTest {

  @Test
  void parse_nameMadeByOf_givesBackJobAndAttempt() {
    String name = ResourceNames.of("jabc123def456", 17);

    assertThat(name).isEqualTo("ad-jabc123def456-a17");
    assertThat(ResourceNames.parse(name)).contains(new ResourceNames.Owner("jabc123def456", 17));
  }

  @Test
  void parse_jobIdHoldingTheAttemptMarker_splitsAtTheLastOne() {
    assertThat(ResourceNames.parse(ResourceNames.of("j-ab-a", 2))).contains(new ResourceNames.Owner("j-ab-a", 2));
  }

  @Test
  void parse_namesThisEngineDidNotMake_areEmpty() {
    assertThat(ResourceNames.parse("my-vm")).isEmpty();
    assertThat(ResourceNames.parse("ad-")).isEmpty();
    assertThat(ResourceNames.parse("ad-j1-ax")).isEmpty();
    assertThat(ResourceNames.parse("ad-j1-a0")).isEmpty();
    assertThat(ResourceNames.parse("ad--a1")).isEmpty();
    assertThat(ResourceNames.parse(null)).isEmpty();
  }

  @Test
  void of_attemptBelowOne_isRefusedNamingTheField() {
    assertThatThrownBy(() -> ResourceNames.of("j1", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attempt must be >= 1");
  }

  @Test
  void newJobId_isAJAndTwelveLowerCaseLettersOrDigits() {
    assertThat(ResourceNames.newJobId()).matches("j[a-z0-9]{12}");
    assertThat(ResourceNames.newJobId()).isNotEqualTo(ResourceNames.newJobId());
  }
}
