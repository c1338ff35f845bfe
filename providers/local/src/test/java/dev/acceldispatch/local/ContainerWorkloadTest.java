package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Secret;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Container workloads, through a fake {@code docker}/{@code podman} that records its argv. */
class ContainerWorkloadTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(50);

  @TempDir Path tmp;
  private FakeHost host;
  private LocalProvider provider;
  private final List<ProvisionedResource> created = new ArrayList<>();

  @BeforeEach
  void setUp() {
    host = new FakeHost(tmp);
  }

  @AfterEach
  void releaseAll() {
    created.forEach(provider::release);
  }

  private LocalProvider provider(LocalProvider.Builder b) {
    provider = b.build();
    return provider;
  }

  private ProvisionedResource run(ProvisionRequest req) {
    ProvisionedResource r = provider.provision(req);
    created.add(r);
    return r;
  }

  private ResourceStatus awaitEnd(ProvisionedResource r) {
    return Await.until("end of " + r.name(), PATIENCE, POLL, () -> {
      ResourceStatus s = provider.status(r);
      return s.phase().isTerminal() ? s : null;
    });
  }

  @Test
  void provision_containerWithHostileArgs_runsDockerWithExactlyThoseArgsPinnedToItsGpus() throws IOException {
    provider(host.builderWithGpus(4, "NVIDIA H100 80GB HBM3", 81559).containerRuntime(host.docker("docker")));
    List<String> hostile = List.of("--epochs=3", "it's \"quoted\"", "$(touch pwned)", "`id`", "a b\nc", "\u00fcn\u00efc\u00f8d\u00e9", "");
    Workload w = Workload.container("registry.example/train:1.4", hostile.toArray(new String[0]))
        .env("MODE", "x'; touch pwned2; '").build();
    ProvisionRequest req = FakeHost.request("ctr", FakeHost.offer(provider, "nvidia-h100-80gb-x2"), w);
    ProvisionedResource r = run(req);

    assertThat(awaitEnd(r).phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    List<String> argv = host.dockerRuns().get(0);
    assertThat(argv.subList(0, 4)).containsExactly("run", "--rm", "--name", "accel-dispatch-" + req.resourceName());
    assertThat(argv).containsSubsequence("--gpus", "\"device=0,1\"");
    assertThat(argv).containsSubsequence("--label", "accel-dispatch-fleet=ctr");
    assertThat(argv).containsSubsequence("--label", "accel-dispatch-attempt=1");
    assertThat(argv).containsSubsequence("-e", "MODE");
    assertThat(argv).containsSubsequence("-e", "ACCEL_DISPATCH_JOB_ID");
    assertThat(argv).doesNotContain("CUDA_VISIBLE_DEVICES");
    int image = argv.indexOf("registry.example/train:1.4");
    assertThat(argv.subList(image + 1, argv.size())).containsExactlyElementsOf(hostile);
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("pwned"));
    }
  }

  @Test
  void provision_containerExitCode_isTheJobsExitCode() {
    provider(host.builder().containerRuntime(host.docker("docker")));
    Workload w = Workload.container("img:1").env("FAKE_EXIT", "17").build();
    ResourceStatus end = awaitEnd(run(FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), w)));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.FAILED);
    assertThat(end.exitCode()).isEqualTo(17);
    assertThat(host.dockerRuns().get(0)).doesNotContain("--gpus");
  }

  @Test
  void provision_podman_pinsGpusWithCdiDevices() {
    provider(host.builderWithGpus(2, "NVIDIA L4", 23034).containerRuntime(host.docker("podman")));
    awaitEnd(run(FakeHost.request("ctr", FakeHost.offer(provider, "nvidia-l4-x2"), Workload.container("img:1").build())));
    assertThat(host.dockerRuns().get(0))
        .containsSubsequence("--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1")
        .doesNotContain("--gpus");
  }

  @Test
  void provision_containerSecret_reachesTheRuntimeByNameOnly() throws IOException {
    provider(host.builder().containerRuntime(host.docker("docker")));
    Workload w = Workload.container("img:1").secretEnv("TOKEN", Secret.of("s3cr3t")).build();
    awaitEnd(run(FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), w)));
    assertThat(host.dockerRuns().get(0)).containsSubsequence("-e", "TOKEN").noneMatch(a -> a.contains("s3cr3t"));
    try (Stream<Path> files = Files.list(host.records)) {
      Path token = files.filter(p -> p.toString().endsWith(".token")).findFirst().orElseThrow();
      assertThat(Files.readString(token, StandardCharsets.UTF_8)).isEqualTo("s3cr3t");
    }
    try (Stream<Path> files = Stream.concat(Files.walk(host.state), Files.walk(host.logs))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.readString(f, StandardCharsets.UTF_8)).as("file %s", f).doesNotContain("s3cr3t");
      }
    }
  }

  @Test
  void release_runningContainer_endsTheCliAndRemovesTheContainer() throws IOException {
    provider(host.builder().containerRuntime(host.docker("docker")));
    ProvisionRequest req = FakeHost.request("ctr", FakeHost.offer(provider, "cpu"),
        Workload.container("img:1").env("FAKE_SLEEP", "300").build());
    ProvisionedResource r = run(req);
    Await.until("docker run", PATIENCE, POLL, () -> host.dockerRuns().isEmpty() ? null : true);

    provider.release(r);

    assertThat(Files.readAllLines(host.records.resolve("rm.log")))
        .containsExactly("rm -f accel-dispatch-" + req.resourceName());
    assertThat(provider.status(r).phase()).isEqualTo(ResourceStatus.Phase.GONE);
  }

  @Test
  void provision_noContainerRuntimeOnPath_isRefusedClearlyBeforeAnythingStarts() {
    Path emptyDir = tmp.resolve("empty-path");
    provider(host.builder().environment("PATH", emptyDir.toString()));
    ProvisionRequest req = FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.container("img:1").build());

    assertThatThrownBy(() -> provider.provision(req))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class, e -> {
          assertThat(e.cloudCode()).isEqualTo("NO_CONTAINER_RUNTIME");
          assertThat(e.cloudMessage()).contains("docker or podman").contains("containerRuntime(path)");
        });
    assertThat(provider.listOwned("ctr")).isEmpty();
    assertThat(provider.store().exists(req.resourceName())).isFalse();
  }

  @Test
  void provision_dockerFoundOnPath_isUsed() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("pathdir"));
    Files.createSymbolicLink(dir.resolve("docker"), host.docker("docker-impl"));
    provider(host.builder().environment("PATH", dir + ":" + System.getenv("PATH")));
    ResourceStatus end = awaitEnd(run(FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.container("img:1").build())));
    assertThat(end.phase()).isEqualTo(ResourceStatus.Phase.SUCCEEDED);
    assertThat(host.dockerRuns()).hasSize(1);
  }

  @Test
  void provision_configuredRuntimeMissing_isRefused() {
    provider(host.builder().containerRuntime(tmp.resolve("no-such-docker")));
    assertThatThrownBy(() -> provider.provision(
            FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.container("img:1").build())))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudMessage()).contains("no-such-docker").contains("not an executable"));
  }

  @Test
  void provision_runtimeWhoseDaemonIsDown_isRefusedWithTheRuntimesOwnWords() throws IOException {
    Files.writeString(host.records.resolve("broken"), "");
    provider(host.builder().containerRuntime(host.docker("docker")));
    ProvisionRequest req = FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.container("img:1").build());

    assertThatThrownBy(() -> provider.provision(req))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class, e -> {
          assertThat(e.cloudCode()).isEqualTo("CONTAINER_RUNTIME_UNUSABLE");
          assertThat(e.cloudMessage()).contains("Cannot connect to the Docker daemon");
        });
    assertThat(provider.listOwned("ctr")).isEmpty();
    assertThat(host.dockerRuns()).isEmpty();
  }

  @Test
  void provision_scriptWorkloadWithoutContainerRuntime_stillRuns() {
    provider(host.builder().environment("PATH", "/usr/bin:/bin").containerRuntime(tmp.resolve("no-such-docker")));
    assertThat(awaitEnd(run(FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.script("exit 0").build()))).phase())
        .isEqualTo(ResourceStatus.Phase.SUCCEEDED);
  }

  @Test
  void provision_runtimeInfoHangs_isRefusedAfterTheHelperTimeout() {
    Path hung = host.script("docker-hung", "exec sleep 60\n");
    provider(host.builder().containerRuntime(hung).helperTimeout(Duration.ofMillis(500)));
    assertThatThrownBy(() -> provider.provision(
            FakeHost.request("ctr", FakeHost.offer(provider, "cpu"), Workload.container("img:1").build())))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudMessage()).contains("did not answer within"));
  }
}
