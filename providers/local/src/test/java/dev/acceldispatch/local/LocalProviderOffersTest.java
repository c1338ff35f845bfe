package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.PriceCatalog;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the local provider offers for the GPUs it finds. */
class LocalProviderOffersTest {
  @TempDir Path tmp;

  @Test
  void deliverableSecretKinds_valuesAndDispatcherHostReferences_neverACloudStore() {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(1, "NVIDIA H100 80GB HBM3", 81559).build();
    assertThat(p.deliverableSecretKinds()).containsExactlyInAnyOrder(
        dev.acceldispatch.Secret.Kind.LITERAL, dev.acceldispatch.Secret.Kind.DISPATCHER_ENV, dev.acceldispatch.Secret.Kind.DISPATCHER_FILE);
  }

  @Test
  void offers_eightH100s_offerEveryFittingShapeWithCapacityAndZeroPrice() {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(8, "NVIDIA H100 80GB HBM3", 81559).build();
    assertThat(p.offers()).extracting(Offer::machineType, Offer::capacity).containsExactly(
        org.assertj.core.groups.Tuple.tuple("nvidia-h100-80gb-x1", 8),
        org.assertj.core.groups.Tuple.tuple("nvidia-h100-80gb-x2", 4),
        org.assertj.core.groups.Tuple.tuple("nvidia-h100-80gb-x4", 2),
        org.assertj.core.groups.Tuple.tuple("nvidia-h100-80gb-x8", 1),
        org.assertj.core.groups.Tuple.tuple("cpu", 4));
    assertThat(p.offers()).allSatisfy(o -> {
      assertThat(o.providerId()).isEqualTo("local");
      assertThat(o.region()).isEqualTo("local");
      assertThat(o.zone()).isEqualTo("local-testhost");
      assertThat(o.onDemandHourly()).isEqualTo(Money.ZERO);
      assertThat(o.spot()).isEmpty();
    });
    assertThat(p.offers().get(3).shape()).isEqualTo(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8));
    assertThat(p.offers().get(4).shape()).isEqualTo(Shapes.cpu());
  }

  @ParameterizedTest
  @CsvSource({"1, 1", "2, 2", "3, 2", "4, 3", "7, 3", "8, 4"})
  void offers_nGpus_offerOnlyShapesThatFit(int gpus, int gpuOffers) {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(gpus, "NVIDIA L4", 23034).build();
    List<Offer> gpuOnly = p.offers().stream().filter(o -> !o.machineType().equals("cpu")).toList();
    assertThat(gpuOnly).hasSize(gpuOffers);
    assertThat(gpuOnly).allSatisfy(o -> assertThat(o.capacity()).isEqualTo(gpus / o.shape().count()));
  }

  @Test
  void offers_mixedTypes_offerEachTypeOnItsOwn() {
    FakeHost host = new FakeHost(tmp);
    Path smi = host.nvidiaSmiPrinting("nvidia-smi-mixed",
        "0, NVIDIA A100-SXM4-80GB, 81920 MiB, GPU-a\n1, NVIDIA A100-SXM4-80GB, 81920 MiB, GPU-b\n"
            + "2, Tesla T4, 15360 MiB, GPU-c\n3, NVIDIA GeForce RTX 4090, 24564 MiB, GPU-d\n", 0);
    LocalProvider p = host.builder().nvidiaSmi(smi.toString()).cpuSlots(0).build();
    assertThat(p.offers()).extracting(Offer::machineType)
        .containsExactly("nvidia-a100-80gb-x1", "nvidia-a100-80gb-x2", "nvidia-t4-x1");
  }

  @Test
  void offers_unknownGpuMappedByHost_isOffered() {
    FakeHost host = new FakeHost(tmp);
    LocalProvider p = host.builderWithGpus(2, "NVIDIA GeForce RTX 4090", 24564)
        .gpuType("NVIDIA GeForce RTX 4090", AcceleratorType.NVIDIA_L4).build();
    assertThat(p.offers()).extracting(Offer::machineType).contains("nvidia-l4-x1", "nvidia-l4-x2");
  }

  @Test
  void offers_hostPriceCatalog_pricesPerDeviceHour() {
    PriceCatalog prices = PriceCatalog.defaults().toBuilder()
        .price("local", "nvidia-h100-80gb", "local", Money.usd("1.25"), null)
        .price("local", "cpu", PriceCatalog.ANY_REGION, Money.usd("0.05"), null)
        .build();
    LocalProvider p = new FakeHost(tmp).builderWithGpus(4, "NVIDIA H100 80GB HBM3", 81559).priceCatalog(prices).build();
    assertThat(FakeHost.offer(p, "nvidia-h100-80gb-x4").onDemandHourly()).isEqualTo(Money.usd("5.00"));
    assertThat(FakeHost.offer(p, "cpu").onDemandHourly()).isEqualTo(Money.usd("0.05"));
  }

  @Test
  void offers_noGpusAndNoCpuSlots_isEmpty() {
    assertThat(new FakeHost(tmp).builder().cpuSlots(0).build().offers()).isEmpty();
  }

  @Test
  void zone_hostName_isSanitisedToItsFirstLabel() {
    LocalProvider p = new FakeHost(tmp).builder().hostName("GPU_Box--7.lab.example.com").build();
    assertThat(p.zone()).isEqualTo("local-gpu-box-7");
    assertThat(LocalProvider.sanitizeHost("..")).isEqualTo("host");
  }

  @Test
  void provision_offerOfAnotherMachine_isInvalid() {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(2, "NVIDIA L4", 23034).build();
    Offer ours = FakeHost.offer(p, "nvidia-l4-x1");
    Offer elsewhere = new Offer("local", "local", "local-otherhost", ours.shape(), ours.machineType(),
        Money.ZERO, null, 2);
    assertThatThrownBy(() -> p.provision(FakeHost.request("f", elsewhere, Workload.script("exit 0").build())))
        .isInstanceOfSatisfying(ProviderException.InvalidRequest.class,
            e -> assertThat(e.cloudCode()).isEqualTo("UNKNOWN_OFFER"));
    assertThat(p.listOwned("f")).isEmpty();
  }

  @Test
  void builder_badSettings_areRejectedNamingTheField() {
    FakeHost host = new FakeHost(tmp);
    assertThatThrownBy(() -> host.builder().id("Local!")).hasMessageContaining("id");
    assertThatThrownBy(() -> host.builder().cpuSlots(-1)).hasMessageContaining("cpuSlots");
    assertThatThrownBy(() -> host.builder().gpuType("x", AcceleratorType.TPU_V5E)).hasMessageContaining("not a GPU");
    assertThatThrownBy(() -> host.builder().environment("ACCEL_DISPATCH_X", "1")).hasMessageContaining("environment name");
    assertThatThrownBy(() -> host.builder().terminationGrace(java.time.Duration.ofSeconds(-1)))
        .hasMessageContaining("terminationGrace");
  }

  @Test
  void limits_default_allowTheGracePeriodWithinOneCall() {
    LocalProvider p = new FakeHost(tmp).builder().terminationGrace(java.time.Duration.ofSeconds(30)).build();
    assertThat(p.limits().callTimeout()).isGreaterThan(java.time.Duration.ofSeconds(30));
  }
}
