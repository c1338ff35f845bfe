package dev.acceldispatch.jdbc;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.event.DispatchEvent;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.ProviderLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The dispatcher process of {@link CrashRecoveryTest}: a real JVM that the test kills with
 * SIGKILL. It wires {@link GcpTpuProvider} (through the real {@code TpuClient}) to the TPU emulator
 * running in the test's JVM, and a {@link JdbcJobStore} on an H2 file, then:
 *
 * <ul>
 *   <li>{@code run <port> <db> <jobs> <firstSeq>}: prints {@code READY}, submits {@code jobs} jobs
 *       printing {@code SUBMITTED <id>} once each submit returned, then runs until killed;
 *   <li>{@code instance <port> <db> <jobs> <firstSeq>}: as {@code run}, then as {@code finish}
 *       (one of several instances sharing a PostgreSQL store, {@code <db>} = {@code pg:<schema>});
 *   <li>{@code finish <port> <db>}: runs until no job is unfinished and no resource of the fleet
 *       is left (the reconciler runs every second), prints {@code DONE} and exits 0 (3 on timeout).
 * </ul>
 */
public final class CrashChild {
  static final String FLEET = "crashtest";

  private CrashChild() {}

  /** Entry point; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    int port = Integer.parseInt(args[1]);
    Path db = args[2].startsWith("pg:") ? null : Path.of(args[2]);
    TpuSettings settings = TpuSettings.newBuilder()
        .setCredentialsProvider(NoCredentialsProvider.create())
        .setTransportChannelProvider(InstantiatingGrpcChannelProvider.newBuilder()
            .setEndpoint("127.0.0.1:" + port)
            .setChannelConfigurator(c -> c.usePlaintext())
            .build())
        .build();
    TpuClient client = TpuClient.create(settings);
    GcpTpuProvider tpu = GcpTpuProvider.builder(client).project("crash-project").externalIp(true).zones("us-west4-a")
        .slices(8).callTimeout(Duration.ofSeconds(5))
        .limits(new ProviderLimits(500, Duration.ofSeconds(10), 4, Duration.ofMillis(100), Duration.ofSeconds(1), 50, Duration.ofSeconds(2)))
        .build();
    // "pg:<schema>" is a schema on the test PostgreSQL; anything else an H2 file.
    JdbcJobStore store;
    if (args[2].startsWith("pg:")) {
      com.zaxxer.hikari.HikariDataSource pool = Databases.postgres(6);
      store = JdbcJobStore.builder(pool).schema(args[2].substring(3)).build();
    } else {
      store = JdbcJobStore.h2File(db);
    }
    Dispatcher.Builder b = Dispatcher.builder();
    if (args.length > 0 && System.getProperty("crash.leaseMillis") != null) {
      // A dispatcher restarted after SIGKILL is a new instance that waits for the dead one's
      // leases to expire, so the tests keep them short.
      b.leaseDuration(Duration.ofMillis(Long.getLong("crash.leaseMillis")));
    }
    Dispatcher d = b
        .provider(tpu)
        .store(store)
        .fleetId(FLEET)
        .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200))
        .reconcileInterval(Duration.ofSeconds(1))
        .releaseRetryInterval(Duration.ofMillis(500))
        .listener(e -> {
          if (e instanceof DispatchEvent.JobStateChanged c && c.to().isTerminal()) {
            System.out.println("ENDED " + c.jobId() + " " + c.to());
            System.out.flush();
          }
        })
        .build();
    System.out.println("READY");
    System.out.flush();
    if (mode.equals("run") || mode.equals("instance")) {
      int jobs = Integer.parseInt(args[3]);
      int seq = Integer.parseInt(args[4]);
      for (int i = 0; i < jobs; i++) {
        int n = seq + i;
        // Every seventh job fails with exit 3: failures must be stored and reported too.
        JobSpec spec = JobSpec.builder("crash job " + n).script(n % 7 == 0 ? "exit 3" : "exit 0")
            .accelerators(Shapes.tpuV5e(8)).label("seq", Integer.toString(n)).build();
        JobHandle h = d.submit(spec);
        System.out.println("SUBMITTED " + h.id());
        System.out.flush();
        Thread.sleep(10);
      }
      System.out.println("SUBMITTED-ALL");
      System.out.flush();
      if (mode.equals("run")) {
        Thread.sleep(Long.MAX_VALUE);
      }
    }
    Instant deadline = Instant.now().plusSeconds(150);
    while (Instant.now().isBefore(deadline)) {
      List<JobRecord> left = store.unfinished();
      int owned;
      try {
        owned = tpu.listOwned(FLEET).size();
      } catch (RuntimeException e) {
        System.err.println("listing the fleet failed, trying again: " + e);
        owned = -1;
      }
      if (left.isEmpty() && owned == 0) {
        System.out.println("DONE");
        System.out.flush();
        System.exit(0);
      }
      Thread.sleep(250);
    }
    System.out.println("TIMEOUT unfinished=" + store.unfinished().size());
    System.out.flush();
    System.exit(3);
  }
}
