package dev.acceldispatch.samples;

import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.profile.AzureProfile;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.resourcemanager.compute.ComputeManager;
import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.compute.v1.AcceleratorTypesClient;
import com.google.cloud.compute.v1.AcceleratorTypesSettings;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.MachineTypesClient;
import com.google.cloud.compute.v1.MachineTypesSettings;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import com.google.cloud.tpu.v2.TpuClient;
import com.google.cloud.tpu.v2.TpuSettings;
import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobResult;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.NoFeasibleOfferException;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.azure.gpu.AzureGpuProvider;
import dev.acceldispatch.azure.gpu.SubnetEgress;
import dev.acceldispatch.gcp.NetworkEgress;
import dev.acceldispatch.gcp.gpu.GcpGpuProvider;
import dev.acceldispatch.gcp.tpu.GcpTpuProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Wiring AccelDispatch to real clouds: Cloud TPU and Compute Engine with Application Default
 * Credentials, Azure with {@code DefaultAzureCredential}. Every setting comes from the environment:
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>what</th></tr>
 *   <tr><td>{@code GOOGLE_CLOUD_PROJECT}</td><td>the Google Cloud project (wires the Google providers)</td></tr>
 *   <tr><td>{@code ACCEL_TPU_ZONES}</td><td>comma-separated TPU zones, for example {@code us-west4-a,us-central1-a}</td></tr>
 *   <tr><td>{@code ACCEL_GCE_ZONES}</td><td>comma-separated Compute Engine GPU zones</td></tr>
 *   <tr><td>{@code AZURE_SUBSCRIPTION_ID}</td><td>the Azure subscription (wires the Azure provider)</td></tr>
 *   <tr><td>{@code AZURE_TENANT_ID}</td><td>optional: the Entra ID tenant</td></tr>
 *   <tr><td>{@code AZURE_RESOURCE_GROUP}</td><td>where VMs are created</td></tr>
 *   <tr><td>{@code ACCEL_AZURE_REGIONS}</td><td>comma-separated regions, for example {@code eastus,westus2}</td></tr>
 *   <tr><td>{@code AZURE_SUBNET_ID}</td><td>the subnet resource id the VMs' NICs join</td></tr>
 *   <tr><td>{@code ACCEL_AZURE_SSH_PUBLIC_KEY}</td><td>the VMs' admin SSH public key (text)</td></tr>
 *   <tr><td>{@code AZURE_VM_IDENTITY_ID}</td><td>the user-assigned identity the VMs report with; it needs
 *       the role Tag Contributor on the resource group</td></tr>
 *   <tr><td>{@code ACCEL_AZURE_SUBNET_EGRESS}</td><td>how the subnet reaches the internet: {@code NAT_GATEWAY},
 *       {@code FIREWALL}, {@code LOAD_BALANCER_OUTBOUND_RULES} or {@code PRIVATE_ENDPOINTS}</td></tr>
 * </table>
 *
 * <p>Without arguments it prints the plan for a sample job (ranked offers, no machine created,
 * but the dispatcher's reconciler does list this fleet's resources); with {@code --submit} it runs
 * the job, which costs money. Missing settings or credentials end it with a message and status 2
 * or 3, before any cloud is called.
 */
public final class RealClouds {
  /** Status when a setting is missing. */
  static final int MISSING_SETTINGS = 2;
  /** Status when credentials cannot be found. */
  static final int NO_CREDENTIALS = 3;

  /**
   * The Google machines get no external IP; this example assumes the subnet of the project's
   * default network has Cloud NAT (see the gcp-tpu and gcp-gpu READMEs for what each choice needs).
   */
  static final NetworkEgress GOOGLE_EGRESS = NetworkEgress.CLOUD_NAT;

  private RealClouds() {}

  /** What the environment asks for. */
  record Settings(
      String project, List<String> tpuZones, List<String> gceZones, String subscription, String tenant,
      String resourceGroup, List<String> azureRegions, String subnetId, String sshPublicKey, String vmIdentity,
      SubnetEgress subnetEgress) {
    boolean google() {
      return project != null;
    }

    boolean azure() {
      return subscription != null;
    }
  }

  /** Runs the example; exits non-zero with a message when settings or credentials are missing. */
  public static void main(String[] args) {
    int status = run(System.getenv(), List.of(args), System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /** The example, with its environment and streams passed in; returns the exit status. */
  static int run(Map<String, String> env, List<String> args, PrintStream out, PrintStream err) {
    List<String> problems = new ArrayList<>();
    Settings s = settings(env, problems);
    if (!problems.isEmpty()) {
      err.println("Cannot wire the real clouds:");
      problems.forEach(p -> err.println("  - " + p));
      err.println("See the Javadoc of " + RealClouds.class.getName() + " or the README, 'Real clouds'.");
      return MISSING_SETTINGS;
    }
    Optional<GoogleCredentials> google = Optional.empty();
    if (s.google()) {
      try {
        google = Optional.of(GoogleCredentials.getApplicationDefault());
      } catch (IOException e) {
        err.println("No Google credentials: run 'gcloud auth application-default login', or set"
            + " GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run on Google Cloud"
            + " with an attached service account. (" + firstLine(e.getMessage()) + ")");
        return NO_CREDENTIALS;
      }
    }
    TokenCredential azureCredential = null;
    if (s.azure()) {
      azureCredential = new DefaultAzureCredentialBuilder().build();
      try {
        // The first call that leaves this machine for Azure: ask Entra ID for an ARM token.
        azureCredential.getToken(new TokenRequestContext().addScopes("https://management.azure.com/.default"))
            .block(Duration.ofSeconds(60));
      } catch (RuntimeException e) {
        err.println("No Azure credentials: run 'az login', or set AZURE_CLIENT_ID, AZURE_TENANT_ID and"
            + " AZURE_CLIENT_SECRET for a service principal, or run on Azure with a managed identity. ("
            + withCauses(e) + ")");
        return NO_CREDENTIALS;
      }
    }
    try {
      return dispatch(s, google, azureCredential, args.contains("--submit"), out, err);
    } catch (IOException e) {
      err.println("Could not create a Google client: " + firstLine(e.getMessage()));
      return NO_CREDENTIALS;
    }
  }

  private static int dispatch(
      Settings s, Optional<GoogleCredentials> google, TokenCredential azureCredential, boolean submit,
      PrintStream out, PrintStream err) throws IOException {
    List<AutoCloseable> clients = new ArrayList<>();
    Dispatcher.Builder builder = Dispatcher.builder().fleetId("example");
    if (google.isPresent()) {
      FixedCredentialsProvider credentials = FixedCredentialsProvider.create(google.get());
      if (!s.tpuZones().isEmpty()) {
        TpuClient tpu = TpuClient.create(TpuSettings.newBuilder().setCredentialsProvider(credentials).build());
        clients.add(tpu);
        builder.provider(GcpTpuProvider.builder(tpu).project(s.project()).egress(GOOGLE_EGRESS).zones(s.tpuZones().toArray(String[]::new)).build());
      }
      if (!s.gceZones().isEmpty()) {
        InstancesClient instances =
            InstancesClient.create(InstancesSettings.newBuilder().setCredentialsProvider(credentials).build());
        ZoneOperationsClient operations =
            ZoneOperationsClient.create(ZoneOperationsSettings.newBuilder().setCredentialsProvider(credentials).build());
        MachineTypesClient machineTypes =
            MachineTypesClient.create(MachineTypesSettings.newBuilder().setCredentialsProvider(credentials).build());
        AcceleratorTypesClient acceleratorTypes =
            AcceleratorTypesClient.create(AcceleratorTypesSettings.newBuilder().setCredentialsProvider(credentials).build());
        clients.add(instances);
        clients.add(operations);
        clients.add(machineTypes);
        clients.add(acceleratorTypes);
        builder.provider(GcpGpuProvider.builder(instances, operations).zoneCatalog(machineTypes, acceleratorTypes)
            .project(s.project()).egress(GOOGLE_EGRESS).zones(s.gceZones().toArray(String[]::new)).build());
      }
    }
    if (azureCredential != null) {
      // The provider's retry policy hands long Retry-After waits to the engine instead of
      // sleeping past the provider's call timeout.
      ComputeManager azure = ComputeManager.configure().withRetryPolicy(AzureGpuProvider.retryPolicy()).authenticate(
          azureCredential, new AzureProfile(s.tenant(), s.subscription(), AzureEnvironment.AZURE));
      builder.provider(AzureGpuProvider.builder(azure).resourceGroup(s.resourceGroup())
          .regions(s.azureRegions().toArray(String[]::new)).subnet(s.subnetId()).subnetEgress(s.subnetEgress())
          .userAssignedIdentity(s.vmIdentity()).sshPublicKey(s.sshPublicKey())
          .build());
    }
    JobSpec spec = JobSpec.builder("example-finetune")
        .container("us-docker.pkg.dev/my-project/train:1.4", "python", "train.py", "--epochs=1")
        .accelerators(AcceleratorRequest.anyOf(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8)))
        .referenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), Duration.ofMinutes(30))
        .spot(SpotPolicy.PREFER).maxHourlyPriceUsd(60).timeout(Duration.ofHours(2))
        .build();
    try (Dispatcher dispatcher = builder.build()) {
      out.println(dispatcher.plan(spec));
      if (submit) {
        JobHandle job = dispatcher.submit(spec);
        out.println("Submitted " + job.id() + "; waiting for it to end (Ctrl-C cancels nothing: close() does).");
        JobResult r = job.result().join();
        out.println(r.state() + " after " + r.attempts().size() + " attempt(s), cost " + r.cost() + ": " + r.message());
      }
      return 0;
    } catch (NoFeasibleOfferException e) {
      err.println("No wired offer fits the sample job: " + e.getMessage());
      return 1;
    } finally {
      for (AutoCloseable c : clients) {
        try {
          c.close();
        } catch (Exception e) {
          err.println("closing a client: " + e.getMessage());
        }
      }
    }
  }

  /** Reads the settings; adds one line per problem to {@code problems}. */
  static Settings settings(Map<String, String> env, List<String> problems) {
    String project = value(env, "GOOGLE_CLOUD_PROJECT");
    List<String> tpuZones = list(env, "ACCEL_TPU_ZONES");
    List<String> gceZones = list(env, "ACCEL_GCE_ZONES");
    String subscription = value(env, "AZURE_SUBSCRIPTION_ID");
    String resourceGroup = value(env, "AZURE_RESOURCE_GROUP");
    List<String> regions = list(env, "ACCEL_AZURE_REGIONS");
    String subnet = value(env, "AZURE_SUBNET_ID");
    String sshKey = value(env, "ACCEL_AZURE_SSH_PUBLIC_KEY");
    String vmIdentity = value(env, "AZURE_VM_IDENTITY_ID");
    String egressName = value(env, "ACCEL_AZURE_SUBNET_EGRESS");
    SubnetEgress egress = null;
    if (project == null && subscription == null) {
      problems.add("set GOOGLE_CLOUD_PROJECT (with ACCEL_TPU_ZONES and/or ACCEL_GCE_ZONES), or"
          + " AZURE_SUBSCRIPTION_ID (with AZURE_RESOURCE_GROUP, ACCEL_AZURE_REGIONS, AZURE_SUBNET_ID,"
          + " ACCEL_AZURE_SSH_PUBLIC_KEY, AZURE_VM_IDENTITY_ID, ACCEL_AZURE_SUBNET_EGRESS), or both");
    }
    if (project != null && tpuZones.isEmpty() && gceZones.isEmpty()) {
      problems.add("GOOGLE_CLOUD_PROJECT is set: also set ACCEL_TPU_ZONES and/or ACCEL_GCE_ZONES (comma-separated zones)");
    }
    if (subscription != null) {
      require(resourceGroup, "AZURE_RESOURCE_GROUP", "the resource group VMs are created in", problems);
      require(regions.isEmpty() ? null : "x", "ACCEL_AZURE_REGIONS", "comma-separated regions, e.g. eastus,westus2", problems);
      require(subnet, "AZURE_SUBNET_ID", "the subnet resource id for the VMs' NICs", problems);
      require(sshKey, "ACCEL_AZURE_SSH_PUBLIC_KEY", "the VMs' admin SSH public key", problems);
      require(vmIdentity, "AZURE_VM_IDENTITY_ID",
          "the user-assigned identity the VMs report with, holding Tag Contributor on the resource group", problems);
      require(egressName, "ACCEL_AZURE_SUBNET_EGRESS", "how the subnet reaches the internet, one of "
          + Arrays.toString(SubnetEgress.values()), problems);
      if (egressName != null) {
        try {
          egress = SubnetEgress.valueOf(egressName.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          problems.add("ACCEL_AZURE_SUBNET_EGRESS must be one of " + Arrays.toString(SubnetEgress.values()) + ", got '" + egressName + "'");
        }
      }
    }
    return new Settings(project, tpuZones, gceZones, subscription, value(env, "AZURE_TENANT_ID"), resourceGroup,
        regions, subnet, sshKey, vmIdentity, egress);
  }

  private static void require(String value, String name, String what, List<String> problems) {
    if (value == null) {
      problems.add("AZURE_SUBSCRIPTION_ID is set: also set " + name + " (" + what + ")");
    }
  }

  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.strip();
  }

  private static List<String> list(Map<String, String> env, String name) {
    String v = value(env, name);
    return v == null ? List.of() : Arrays.stream(v.split(",")).map(String::strip).filter(z -> !z.isEmpty()).toList();
  }

  /**
   * The first line of {@code e}'s message and of each cause's, joined: Azure's credential chain
   * says only "see inner exception" at the top, and the reason is one or more causes down.
   */
  static String withCauses(Throwable e) {
    java.util.LinkedHashSet<String> lines = new java.util.LinkedHashSet<>();
    for (Throwable t = e; t != null && lines.size() < 6; t = t.getCause() == t ? null : t.getCause()) {
      String line = firstLine(t.getMessage());
      if (!line.equals("no details")) {
        lines.add(line);
      }
      for (Throwable s : t.getSuppressed()) {
        lines.add(firstLine(s.getMessage()));
      }
    }
    return lines.isEmpty() ? e.getClass().getSimpleName() : String.join("; caused by: ", lines);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "no details";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
