package dev.acceldispatch.gcp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.tpu.v2.TpuClient;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.spi.ProvisionRequest;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.testkit.emulator.tpu.TpuEmulator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Regression (issue 14): the TPU provider turned {@code team.name} into {@code team-name} and the
 * Compute Engine provider into {@code team_name}, so one job carried different labels per provider.
 * Both now go through one function; this proves it on the wire, through both real clients.
 */
class GoogleLabelsAgreeTest {

  @Test
  void provision_sameJobLabelsOnTpuAndGce_reachBothCloudsSpelledTheSame() throws Exception {
    Map<String, String> labels = Map.of("team.name", "ML Infra", "Cost Center", "42/b", "9lives", "x");
    try (EmulatedGce gce = new EmulatedGce();
        TpuEmulator tpuEmulator = TpuEmulator.create(gce.model).start()) {
      TpuClient tpuClient = TpuClient.create(tpuEmulator.clientSettings());
      try (GcpTpuProvider tpu = GcpTpuProvider.builder(tpuClient).project("p").egress(NetworkEgress.CLOUD_NAT)
          .zones("us-west4-a").build()) {
        GcpGpuProvider gpu = gce.provider().build();
        Offer tpuOffer = tpu.offers().get(0);
        Offer gpuOffer = gpu.offers().stream().filter(o -> o.machineType().equals("n1-standard-4")).findFirst().orElseThrow();
        ProvisionedResource a = tpu.provision(new ProvisionRequest("ad-same-a1", "fleet-x", "same", 1, tpuOffer, false,
            Workload.script("exit 0").build(), labels, null));
        ProvisionedResource b = gpu.provision(new ProvisionRequest("ad-same-a2", "fleet-x", "same", 2, gpuOffer, false,
            Workload.script("exit 0").build(), labels, null));
        Map<String, String> onTpu = tpuEmulator.createRequests().get(0).getQueuedResource().getTpu().getNodeSpec(0).getNode().getLabelsMap();
        Map<String, String> onGce = gce.emulator.insertedInstance("ad-same-a2").orElseThrow().getLabelsMap();
        assertThat(onTpu).containsEntry("team_name", "ml_infra").containsEntry("cost_center", "42_b").containsEntry("k9lives", "x");
        assertThat(withoutAttempt(onTpu)).isEqualTo(withoutAttempt(onGce));
        tpu.release(a);
        gpu.release(b);
      } finally {
        tpuClient.close();
        tpuClient.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  private static Map<String, String> withoutAttempt(Map<String, String> labels) {
    Map<String, String> m = new java.util.TreeMap<>(labels);
    m.remove("accel-dispatch-attempt");
    return m;
  }
}
