package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ApiRateLimiterTest {

  @Test
  void tryAcquire_overTheGroupBudget_waitsForTheNextMinuteWindowOnly() {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:45Z"));
    ApiRateLimiter limiter = new ApiRateLimiter(new GceApiQuotas(2, 1, 1, 1), clock);

    assertThat(limiter.tryAcquire(ApiRateLimiter.Group.MUTATION)).isZero();
    assertThat(limiter.tryAcquire(ApiRateLimiter.Group.MUTATION)).isZero();
    assertThat(limiter.tryAcquire(ApiRateLimiter.Group.MUTATION)).isEqualTo(Duration.ofSeconds(15));
    assertThat(limiter.tryAcquire(ApiRateLimiter.Group.READ)).as("other groups have their own budget").isZero();

    clock.advance(Duration.ofSeconds(15));

    assertThat(limiter.tryAcquire(ApiRateLimiter.Group.MUTATION)).isZero();
  }
}
