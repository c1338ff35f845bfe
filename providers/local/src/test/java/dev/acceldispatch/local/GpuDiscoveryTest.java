package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.acceldispatch.AcceleratorType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code nvidia-smi} output parsing and the mapping of GPU names to catalog types. */
class GpuDiscoveryTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} ({1} MiB) -> {2}")
  @CsvSource(delimiter = '|', value = {
    "NVIDIA H100 80GB HBM3     | 81559 | nvidia-h100-80gb",
    "NVIDIA H100 PCIe          | 81559 | nvidia-h100-80gb",
    "NVIDIA H100 NVL           | 95830 | nvidia-h100-nvl-94gb",
    "NVIDIA A100-SXM4-80GB     | 81920 | nvidia-a100-80gb",
    "NVIDIA A100 80GB PCIe     | 81920 | nvidia-a100-80gb",
    "NVIDIA A100-SXM4-40GB     | 40960 | nvidia-a100-40gb",
    "NVIDIA A100-PCIE-40GB     | 40960 | nvidia-a100-40gb",
    "NVIDIA A100-SXM4          | 81920 | nvidia-a100-80gb",
    "NVIDIA L4                 | 23034 | nvidia-l4",
    "Tesla T4                  | 15360 | nvidia-t4",
  })
  void typeOf_knownNvidiaSmiNames_mapToCatalogTypes(String name, long mib, String typeId) {
    assertThat(new GpuTypes(Map.of()).typeOf(name, mib)).map(AcceleratorType::id).contains(typeId);
  }

  @ParameterizedTest
  @CsvSource({"NVIDIA L40S, 46068", "NVIDIA GeForce RTX 4090, 24564", "NVIDIA RTX A6000, 49140", "Quadro T400, 2048"})
  void typeOf_modelsOutsideTheCatalog_mapToNothing(String name, long mib) {
    assertThat(new GpuTypes(Map.of()).typeOf(name, mib)).isEmpty();
  }

  @Test
  void typeOf_hostMapping_winsOverBuiltIn() {
    GpuTypes types = new GpuTypes(Map.of("NVIDIA GeForce RTX 4090", AcceleratorType.NVIDIA_L4,
        "Tesla T4", AcceleratorType.NVIDIA_L4));
    assertThat(types.typeOf("nvidia geforce rtx 4090", 24564)).contains(AcceleratorType.NVIDIA_L4);
    assertThat(types.typeOf("Tesla T4", 15360)).contains(AcceleratorType.NVIDIA_L4);
  }

  @Test
  void parse_csvLines_readsIndexNameMemoryAndUuidInIndexOrder() {
    String csv = "1, NVIDIA A100-SXM4-40GB, 40960 MiB, GPU-bbbb\n"
        + "0, NVIDIA A100-SXM4-80GB, 81920 MiB, GPU-aaaa\r\n"
        + "\n"
        + "2, NVIDIA GeForce RTX 4090, 24564 MiB, GPU-cccc\n"
        + "garbage line\n"
        + "x, NVIDIA L4, 23034 MiB, GPU-dddd\n"
        + "3, Tesla T4, [N/A], GPU-eeee\n";
    List<GpuDevice> gpus = NvidiaSmi.parse(csv, new GpuTypes(Map.of()));
    assertThat(gpus).containsExactly(
        new GpuDevice(0, "NVIDIA A100-SXM4-80GB", 81920, "GPU-aaaa", AcceleratorType.NVIDIA_A100_80GB),
        new GpuDevice(1, "NVIDIA A100-SXM4-40GB", 40960, "GPU-bbbb", AcceleratorType.NVIDIA_A100_40GB),
        new GpuDevice(3, "Tesla T4", 0, "GPU-eeee", AcceleratorType.NVIDIA_T4));
  }

  @Test
  void parse_nameWithAComma_keepsTheWholeName() {
    List<GpuDevice> gpus = NvidiaSmi.parse("0, NVIDIA L4, rev, 2, 23034 MiB, GPU-x\n", new GpuTypes(Map.of()));
    assertThat(gpus).extracting(GpuDevice::name).containsExactly("NVIDIA L4, rev, 2");
  }

  @Test
  void build_fakeNvidiaSmi_isCalledWithTheDocumentedQuery() throws Exception {
    FakeHost host = new FakeHost(tmp);
    LocalProvider p = host.builderWithGpus(2, "NVIDIA L4", 23034).build();
    assertThat(Files.readAllLines(host.records.resolve("nvidia-smi.args")))
        .containsExactly("--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader");
    assertThat(p.gpus()).extracting(GpuDevice::index).containsExactly(0, 1);
    assertThat(p.gpus()).extracting(GpuDevice::uuid).allMatch(u -> u.startsWith("GPU-"));
  }

  @Test
  void build_nvidiaSmiFails_offersCpuOnly() {
    FakeHost host = new FakeHost(tmp);
    Path broken = host.nvidiaSmiPrinting("nvidia-smi-broken",
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", 9);
    LocalProvider p = host.builder().nvidiaSmi(broken.toString()).build();
    assertThat(p.gpus()).isEmpty();
    assertThat(p.offers()).extracting(o -> o.machineType()).containsExactly(LocalProvider.CPU_MACHINE_TYPE);
  }

  @Test
  void build_nvidiaSmiMissingFromPath_offersCpuOnly() {
    FakeHost host = new FakeHost(tmp);
    LocalProvider p = host.builder().nvidiaSmi("nvidia-smi").environment("PATH", host.bin.toString()).build();
    assertThat(p.gpus()).isEmpty();
    assertThat(p.offers()).singleElement().satisfies(o -> assertThat(o.shape().type()).isEqualTo(AcceleratorType.CPU));
  }

  @Test
  void build_nvidiaSmiOnPath_isFoundByName() throws Exception {
    FakeHost host = new FakeHost(tmp);
    Path fake = host.nvidiaSmi(2, "Tesla T4", 15360);
    Path dir = Files.createDirectories(tmp.resolve("pathdir"));
    Files.createSymbolicLink(dir.resolve("nvidia-smi"), fake);
    LocalProvider p = host.builder().nvidiaSmi("nvidia-smi")
        .environment("PATH", dir + ":" + System.getenv("PATH")).build();
    assertThat(p.gpus()).extracting(g -> g.type().id()).containsExactly("nvidia-t4", "nvidia-t4");
  }

  @Test
  void build_nvidiaSmiHangs_givesUpAtTheHelperTimeoutAndOffersCpuOnly() {
    FakeHost host = new FakeHost(tmp);
    Path hung = host.script("nvidia-smi-hung", "sleep 60 & echo $! > " + FakeHost.quote(host.records.resolve("hung.pid")) + "\nwait\n");
    long started = System.nanoTime();
    LocalProvider p = host.builder().nvidiaSmi(hung.toString()).helperTimeout(java.time.Duration.ofMillis(500)).build();
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(10));
    assertThat(p.gpus()).isEmpty();
    assertThat(p.offers()).extracting(o -> o.machineType()).containsExactly("cpu");
  }
}
