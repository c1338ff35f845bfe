package dev.acceldispatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.Offer;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProviderException;
import dev.acceldispatch.spi.ProvisionedResource;
import dev.acceldispatch.spi.ResourceStatus;
import dev.acceldispatch.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GPU allocation and pinning, under concurrency, on fake machines with 2, 4 and 8 GPUs. */
class DeviceAllocationTest {
  /** The workload records what it sees, then waits to be released. */
  private static final String RECORD_AND_WAIT =
      "printf '%s|%s' \"${CUDA_VISIBLE_DEVICES-unset}\" \"${CUDA_DEVICE_ORDER-unset}\" > cuda.txt; sleep 60";

  @TempDir Path tmp;
  private final List<LocalProvider> providers = new ArrayList<>();
  private final List<ProvisionedResource> created = new ArrayList<>();
  private ExecutorService pool;

  @AfterEach
  void releaseAll() throws InterruptedException {
    for (ProvisionedResource r : created) {
      providers.get(0).release(r);
    }
    if (pool != null) {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  private LocalProvider provider(int gpus) {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(gpus, "NVIDIA H100 80GB HBM3", 81559).build();
    providers.add(p);
    return p;
  }

  private ProvisionedResource provision(LocalProvider p, Offer offer, String script) {
    ProvisionedResource r = p.provision(FakeHost.request("alloc", offer, Workload.script(script).build()));
    created.add(r);
    return r;
  }

  /** What the workload of {@code r} saw, once it has written it. */
  private static String seen(ProvisionedResource r) {
    Path f = Path.of(r.attributes().get(LocalProvider.ATTR_LOG_DIR)).resolve("cuda.txt");
    return Await.until("cuda.txt of " + r.name(), Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
      try {
        return Files.exists(f) && Files.size(f) > 0 ? Files.readString(f, StandardCharsets.UTF_8) : null;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static Set<Integer> devices(ProvisionedResource r) {
    String d = r.attributes().get(LocalProvider.ATTR_DEVICES);
    return d.isEmpty() ? Set.of() : Arrays.stream(d.split(",")).map(Integer::valueOf).collect(Collectors.toSet());
  }

  @ParameterizedTest(name = "{0} GPUs")
  @ValueSource(ints = {2, 4, 8})
  void provision_twiceAsManyConcurrentSingleGpuJobsAsGpus_eachGpuGoesToExactlyOneJob(int gpus) throws Exception {
    LocalProvider p = provider(gpus);
    Offer x1 = FakeHost.offer(p, "nvidia-h100-80gb-x1");
    int jobs = gpus * 2;
    pool = Executors.newFixedThreadPool(jobs);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Object>> results = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      results.add(pool.submit(() -> {
        go.await();
        try {
          return p.provision(FakeHost.request("alloc", x1, Workload.script(RECORD_AND_WAIT).build()));
        } catch (ProviderException.CapacityUnavailable e) {
          return e;
        }
      }));
    }
    go.countDown();
    List<ProvisionedResource> granted = new ArrayList<>();
    List<ProviderException.CapacityUnavailable> refused = new ArrayList<>();
    for (Future<Object> f : results) {
      Object o = f.get(30, TimeUnit.SECONDS);
      if (o instanceof ProvisionedResource r) {
        granted.add(r);
        created.add(r);
      } else {
        refused.add((ProviderException.CapacityUnavailable) o);
      }
    }

    assertThat(granted).hasSize(gpus);
    assertThat(refused).hasSize(gpus).allSatisfy(e -> assertThat(e.cloudCode()).isEqualTo("DEVICES_BUSY"));
    Set<Integer> all = new HashSet<>();
    for (ProvisionedResource r : granted) {
      Set<Integer> d = devices(r);
      assertThat(d).hasSize(1);
      assertThat(all.addAll(d)).as("device %s given twice", d).isTrue();
      assertThat(seen(r)).isEqualTo(d.iterator().next() + "|PCI_BUS_ID");
    }
    assertThat(all).isEqualTo(IntStream.range(0, gpus).boxed().collect(Collectors.toSet()));
  }

  @Test
  void provision_mixedShapesOnEightGpus_getDisjointDevicesUntilFull() {
    LocalProvider p = provider(8);
    ProvisionedResource four = provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x4"), RECORD_AND_WAIT);
    ProvisionedResource twoA = provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x2"), RECORD_AND_WAIT);
    ProvisionedResource twoB = provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x2"), RECORD_AND_WAIT);

    assertThat(seen(four)).isEqualTo("0,1,2,3|PCI_BUS_ID");
    assertThat(seen(twoA)).isEqualTo("4,5|PCI_BUS_ID");
    assertThat(seen(twoB)).isEqualTo("6,7|PCI_BUS_ID");
    assertThatThrownBy(() -> provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x1"), RECORD_AND_WAIT))
        .isInstanceOf(ProviderException.CapacityUnavailable.class)
        .hasMessageContaining("0 of 8 free");
  }

  @Test
  void release_freesTheDevicesForTheNextJob() {
    LocalProvider p = provider(2);
    Offer x2 = FakeHost.offer(p, "nvidia-h100-80gb-x2");
    ProvisionedResource first = provision(p, x2, RECORD_AND_WAIT);
    assertThatThrownBy(() -> provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x1"), RECORD_AND_WAIT))
        .isInstanceOf(ProviderException.CapacityUnavailable.class);
    p.release(first);
    ProvisionedResource second = provision(p, x2, RECORD_AND_WAIT);
    assertThat(seen(second)).isEqualTo("0,1|PCI_BUS_ID");
  }

  @Test
  void provision_afterWorkloadEndedButBeforeRelease_stillHoldsItsDevices() {
    LocalProvider p = provider(2);
    ProvisionedResource done = provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x2"), "exit 0");
    Await.until("end of " + done.name(), Duration.ofSeconds(20), Duration.ofMillis(50),
        () -> p.status(done).phase().isTerminal() ? true : null);
    assertThatThrownBy(() -> provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x1"), RECORD_AND_WAIT))
        .isInstanceOf(ProviderException.CapacityUnavailable.class);
  }

  @Test
  void provision_jobSetsItsOwnCudaVisibleDevices_pinningWins() {
    LocalProvider p = provider(4);
    Workload w = Workload.script(RECORD_AND_WAIT).env("CUDA_VISIBLE_DEVICES", "3").build();
    ProvisionedResource r = p.provision(FakeHost.request("alloc", FakeHost.offer(p, "nvidia-h100-80gb-x1"), w));
    created.add(r);
    assertThat(seen(r)).isEqualTo("0|PCI_BUS_ID");
  }

  @Test
  void provision_cpuShape_seesNoGpuAndCountsAgainstCpuSlots() {
    LocalProvider p = new FakeHost(tmp).builderWithGpus(2, "NVIDIA L4", 23034).cpuSlots(1).build();
    providers.add(p);
    ProvisionedResource cpu = provision(p, FakeHost.offer(p, "cpu"), RECORD_AND_WAIT);
    assertThat(seen(cpu)).isEqualTo("|PCI_BUS_ID");
    assertThat(devices(cpu)).isEmpty();
    assertThatThrownBy(() -> provision(p, FakeHost.offer(p, "cpu"), RECORD_AND_WAIT))
        .isInstanceOfSatisfying(ProviderException.CapacityUnavailable.class,
            e -> assertThat(e.cloudCode()).isEqualTo("CPU_SLOTS_BUSY"));
    assertThat(seen(provision(p, FakeHost.offer(p, "nvidia-l4-x2"), RECORD_AND_WAIT))).isEqualTo("0,1|PCI_BUS_ID");
  }

  @Test
  void provision_twoProvidersSharingAStateDirectory_neverShareADevice() throws Exception {
    LocalProvider a = provider(4);
    LocalProvider b = new FakeHost(tmp).builderWithGpus(4, "NVIDIA H100 80GB HBM3", 81559).build();
    pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<ProvisionedResource>> results = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      LocalProvider p = i % 2 == 0 ? a : b;
      results.add(pool.submit(() -> {
        go.await();
        try {
          return p.provision(FakeHost.request("alloc", FakeHost.offer(p, "nvidia-h100-80gb-x1"),
              Workload.script(RECORD_AND_WAIT).build()));
        } catch (ProviderException.CapacityUnavailable e) {
          return null;
        }
      }));
    }
    go.countDown();
    Set<Integer> used = new HashSet<>();
    int granted = 0;
    for (Future<ProvisionedResource> f : results) {
      ProvisionedResource r = f.get(30, TimeUnit.SECONDS);
      if (r != null) {
        created.add(r);
        granted++;
        assertThat(used.addAll(devices(r))).as("device of %s given twice", r.name()).isTrue();
      }
    }
    assertThat(granted).isEqualTo(4);
    assertThat(a.listOwned("alloc")).hasSize(4);
  }

  @Test
  void status_runningJob_reportsItsDevicesAndLogFolder() {
    LocalProvider p = provider(2);
    ProvisionedResource r = provision(p, FakeHost.offer(p, "nvidia-h100-80gb-x1"), RECORD_AND_WAIT);
    seen(r);
    ResourceStatus s = p.status(r);
    assertThat(s.phase()).isEqualTo(ResourceStatus.Phase.RUNNING);
    assertThat(s.detail()).contains("GPU 0");
    assertThat(s.attributes()).containsEntry(LocalProvider.ATTR_DEVICES, "0")
        .containsEntry(LocalProvider.ATTR_LOG_DIR, r.attributes().get(LocalProvider.ATTR_LOG_DIR));
  }
}
