package dev.acceldispatch.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The sample service over HTTP: a job submitted at the REST endpoint runs on this machine. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext // closes the dispatcher before the state directory is deleted
class JobsApplicationTest {
  @TempDir static Path state;

  @DynamicPropertySource
  static void stateDirectory(DynamicPropertyRegistry registry) {
    registry.add("acceldispatch.providers.local.state-directory", () -> state.toString());
    registry.add("acceldispatch.engine.poll-interval", () -> "100ms");
    registry.add("acceldispatch.engine.poll-interval-max", () -> "300ms");
  }

  @Value("${local.server.port}") int port;

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30));
    r.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void postJobs_script_runsLocallyAndShowsInJobsHealthAndMetrics() throws Exception {
    HttpResponse<String> submitted = call("POST", "/jobs",
        "{\"name\":\"hello\",\"script\":\"echo hello\",\"tenant\":\"research\",\"accelerators\":[\"cpu\"]}");

    assertThat(submitted.statusCode()).isEqualTo(202);
    Matcher id = Pattern.compile("\"id\":\"([^\"]+)\"").matcher(submitted.body());
    assertThat(id.find()).as(submitted.body()).isTrue();
    String done = Await.until("the job to succeed", Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
      try {
        String body = call("GET", "/jobs/" + id.group(1), null).body();
        return body.contains("\"state\":\"SUCCEEDED\"") ? body : null;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(done).contains("\"tenant\":\"research\"").contains("\"outcome\":\"SUCCEEDED\"").contains("local/");

    HttpResponse<String> health = call("GET", "/actuator/health", null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"accelDispatch\"").contains("\"reachable\":true");
    HttpResponse<String> metric = call("GET", "/actuator/metrics/accel.dispatch.jobs.ended", null);
    assertThat(metric.statusCode()).isEqualTo(200);
    assertThat(metric.body()).contains("\"value\":1.0");
  }

  @Test
  void postJobs_unknownAccelerator_isRefusedWithTheReason() throws Exception {
    HttpResponse<String> refused = call("POST", "/jobs",
        "{\"name\":\"x\",\"script\":\"true\",\"accelerators\":[\"nvidia-z9000:8\"]}");

    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("unknown type 'nvidia-z9000'");
  }

  @Test
  void getJob_unknownId_is404() throws Exception {
    assertThat(call("GET", "/jobs/no-such-job", null).statusCode()).isEqualTo(404);
  }
}
