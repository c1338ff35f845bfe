package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The real-cloud example, up to the point where it would call a cloud. */
class RealCloudsTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env) {
    return RealClouds.run(env, List.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void run_noSettings_exitsTwoNamingTheVariables() {
    int status = run(Map.of());

    assertThat(status).isEqualTo(RealClouds.MISSING_SETTINGS);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("GOOGLE_CLOUD_PROJECT").contains("AZURE_SUBSCRIPTION_ID").doesNotContain("Exception");
    assertThat(out.size()).isZero();
  }

  @Test
  void run_azureHalfConfigured_namesEachMissingVariable() {
    int status = run(Map.of("AZURE_SUBSCRIPTION_ID", "sub", "AZURE_RESOURCE_GROUP", "ml"));

    assertThat(status).isEqualTo(RealClouds.MISSING_SETTINGS);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("ACCEL_AZURE_REGIONS").contains("AZURE_SUBNET_ID").contains("ACCEL_AZURE_SSH_PUBLIC_KEY")
        .contains("AZURE_VM_IDENTITY_ID").contains("ACCEL_AZURE_SUBNET_EGRESS").contains("Tag Contributor")
        .doesNotContain("also set AZURE_RESOURCE_GROUP");
  }

  @Test
  void settings_everythingSet_readsListsAndTrimsValues() {
    List<String> problems = new ArrayList<>();
    RealClouds.Settings s = RealClouds.settings(Map.of(
        "GOOGLE_CLOUD_PROJECT", " my-project ", "ACCEL_TPU_ZONES", "us-west4-a, us-central1-a",
        "ACCEL_GCE_ZONES", "us-central1-a", "AZURE_SUBSCRIPTION_ID", "sub", "AZURE_RESOURCE_GROUP", "ml",
        "ACCEL_AZURE_REGIONS", "eastus,westus2", "AZURE_SUBNET_ID", "/subscriptions/sub/x",
        "ACCEL_AZURE_SSH_PUBLIC_KEY", "ssh-ed25519 AAAA", "AZURE_VM_IDENTITY_ID", "/subscriptions/sub/id",
        "ACCEL_AZURE_SUBNET_EGRESS", "nat_gateway"), problems);

    assertThat(problems).isEmpty();
    assertThat(s.project()).isEqualTo("my-project");
    assertThat(s.tpuZones()).containsExactly("us-west4-a", "us-central1-a");
    assertThat(s.azureRegions()).containsExactly("eastus", "westus2");
    assertThat(s.subnetEgress()).isEqualTo(dev.acceldispatch.azure.gpu.SubnetEgress.NAT_GATEWAY);
  }

  /**
   * A separate JVM, because Application Default Credentials read the process environment. The
   * credentials file named there does not exist, so the lookup fails before any network call.
   */
  @Test
  @Timeout(60)
  void main_googleWithoutCredentials_exitsThreeWithAClearMessageAndNoStackTrace(@TempDir Path home) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), RealClouds.class.getName());
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("GOOGLE_") || k.startsWith("AZURE_") || k.startsWith("ACCEL_"));
    env.put("HOME", home.toString());
    env.put("NO_GCE_CHECK", "true");
    env.put("GOOGLE_APPLICATION_CREDENTIALS", home.resolve("missing-adc.json").toString());
    env.put("GOOGLE_CLOUD_PROJECT", "my-project");
    env.put("ACCEL_TPU_ZONES", "us-west4-a");
    pb.redirectOutput(home.resolve("stdout").toFile());
    pb.redirectError(home.resolve("stderr").toFile());
    pb.directory(new File(home.toString()));
    Process p = pb.start();
    assertThat(p.waitFor(50, TimeUnit.SECONDS)).isTrue();

    String stderr = Files.readString(home.resolve("stderr"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isEqualTo(RealClouds.NO_CREDENTIALS);
    assertThat(stderr).contains("No Google credentials").contains("gcloud auth application-default login")
        .doesNotContain("\tat ").doesNotContain("Exception in thread");
  }
}
