package dev.acceldispatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Money;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.Workload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobFileTest {
  private static final Map<String, String> ENV = Map.of("HF_TOKEN", "hf_secret_value", "DB_PASSWORD", "p@ss 'w\"rd");

  @TempDir Path tmp;

  private static JobSpec parse(String yaml) {
    return JobFile.parse("job.yaml", yaml, ENV::get, null);
  }

  private static JobSpec everyField() {
    return JobSpec.builder("finetune 7b: \"quoted\" $(not run)")
        .workload(Workload.container("us-docker.pkg.dev/p/train:1.4", "python", "train.py", "--msg=it's a \"test\"", "")
            .env("EPOCHS", "3").env("MULTI", "line one\nline two").env("EMPTY", "")
            .secretEnv("HF_TOKEN", Secret.of("hf_secret_value")).secretEnv("DB_PASSWORD", Secret.of("p@ss 'w\"rd")).build())
        .accelerators(dev.acceldispatch.AcceleratorRequest.anyOf(Shapes.tpuV5e(8), Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8))
            .withMinTotalMemoryGib(128))
        .providers("gcp-tpu", "azure-gpu").regions("us-west4").zones("us-west4-a", "us-central1-a")
        .spot(SpotPolicy.PREFER).onDemandAfterPreemptions(2)
        .maxHourlyPrice(Money.usd("60.125")).maxTotalCost(Money.usd("0.00000001"))
        .priority(-7).tenant("research.team-1").label("team", "nlp").label("cost-center", "")
        .preemptionBudget(5).timeout(Duration.ofHours(6).plusMillis(1)).startDeadline(Duration.ofMinutes(90))
        .referenceRunTime(Shapes.gpu(AcceleratorType.NVIDIA_H100_80GB, 8), Duration.ofSeconds(7201))
        .hedge(3).checkpointLocation("gs://bucket/ckpt")
        .build();
  }

  @Test
  void write_everySpecFieldThenParse_givesAnEqualSpec() {
    JobSpec spec = everyField();

    String yaml = JobFile.write(spec);
    JobSpec back = parse(yaml);

    assertThat(back).isEqualTo(spec);
    assertThat(back.workload().secretEnv()).isEqualTo(spec.workload().secretEnv());
    assertThat(yaml).doesNotContain("hf_secret_value").doesNotContain("p@ss").contains("fromEnv: HF_TOKEN");
  }

  @Test
  void write_scriptWorkloadWithDefaultsThenParse_givesAnEqualSpecAndAShortFile() {
    JobSpec spec = JobSpec.builder("hello").script("echo 'hi'\nexit 0\n").accelerators(Shapes.cpu()).build();

    String yaml = JobFile.write(spec);

    assertThat(parse(yaml)).isEqualTo(spec);
    assertThat(yaml.lines()).hasSizeLessThan(8);
  }

  @Test
  void parse_exampleFiles_areValidJobs() throws Exception {
    Path examples = Path.of(System.getProperty("accel.dispatch.examples", "../examples"));
    JobSpec hello = JobFile.read(examples.resolve("hello.yaml"), ENV::get);
    JobSpec train = JobFile.read(examples.resolve("train.yaml"), ENV::get);

    assertThat(hello.accelerators().shapes()).containsExactly(Shapes.cpu());
    assertThat(train.workload().secretEnv().get("HF_TOKEN").reveal()).isEqualTo("hf_secret_value");
    assertThat(train.spot()).isEqualTo(SpotPolicy.PREFER);
  }

  @Test
  void parse_secretFromFile_readsItRelativeToTheJobFileWithoutTheTrailingNewline() throws Exception {
    Files.writeString(tmp.resolve("token.txt"), "s3cr3t\n", StandardCharsets.UTF_8);
    Files.writeString(tmp.resolve("job.yaml"), "name: j\naccelerators: [{type: cpu}]\nscript: env\nsecretEnv:\n  TOKEN: {fromFile: token.txt}\n");

    JobSpec spec = JobFile.read(tmp.resolve("job.yaml"), ENV::get);

    assertThat(spec.workload().secretEnv().get("TOKEN").reveal()).isEqualTo("s3cr3t");
  }

  @Test
  void parse_secretValueWrittenInTheFile_isRefusedWithoutEchoingIt() {
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\nscript: env\nsecretEnv:\n  TOKEN: literal-value\n"))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("job.yaml:5: secretEnv.TOKEN: a secret's value never goes in the job file")
        .hasMessageContaining("fromEnv").hasMessageContaining("fromFile")
        .hasMessageNotContaining("literal-value");
  }

  @Test
  void parse_secretFromUnsetVariable_namesTheVariableAndLine() {
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\nscript: env\nsecretEnv:\n  TOKEN:\n    fromEnv: NOPE\n"))
        .hasMessage("job.yaml:6: secretEnv.TOKEN.fromEnv: environment variable NOPE is not set");
  }

  @Test
  void parse_unknownField_namesLineFieldAndTheAllowedOnes() {
    assertThatThrownBy(() -> parse("name: j\nacelerators: [{type: cpu}]\nscript: env\n"))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("job.yaml:2: acelerators: unknown field 'acelerators'; allowed here: name, accelerators,");
  }

  @Test
  void parse_unknownAcceleratorType_namesTheItemAndTheCatalog() {
    assertThatThrownBy(() -> parse("name: j\naccelerators:\n  - type: cpu\n  - type: nvidia-h200\n    count: 8\nscript: env\n"))
        .hasMessageStartingWith("job.yaml:4: accelerators.1.type: unknown accelerator type 'nvidia-h200'; allowed: [tpu-v5e,");
  }

  @Test
  void parse_impossibleShape_namesTheItemAndTheAllowedCounts() {
    assertThatThrownBy(() -> parse("name: j\naccelerators:\n  - type: tpu-v5e\n    count: 3\nscript: env\n"))
        .hasMessage("job.yaml:3: accelerators.0: count: TPU v5e slices have 1, 4, 8, 16, 32, 64, 128 or 256 chips, got 3");
  }

  @Test
  void parse_containerAndScriptBoth_isRefusedNamingBoth() {
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\ncontainer: {image: alpine}\nscript: env\n"))
        .hasMessage("job.yaml:4: script: set either container or script, not both");
  }

  @Test
  void parse_badDurationSpotAndPrice_sayWhatIsAllowed() {
    String base = "name: j\naccelerators: [{type: cpu}]\nscript: env\n";
    assertThatThrownBy(() -> parse(base + "timeout: 2 hours\n"))
        .hasMessage("job.yaml:4: timeout: '2 hours' is not a duration such as 90s, 15m, 1h30m, 2d, 500ms or PT2H");
    assertThatThrownBy(() -> parse(base + "spot: sometimes\n"))
        .hasMessage("job.yaml:4: spot: 'sometimes' is not allowed; allowed: never, prefer, only");
    assertThatThrownBy(() -> parse(base + "maxHourlyPrice: cheap\n"))
        .hasMessage("job.yaml:4: maxHourlyPrice: must be an amount of USD such as 12.50, got 'cheap'");
  }

  @Test
  void parse_invalidValueCaughtByJobSpec_namesTheLineOfThatField() {
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\nscript: env\n\ntenant: 'bad tenant!'\n"))
        .hasMessageStartingWith("job.yaml:5: tenant: tenant must be 1 to 63 of [A-Za-z0-9._-]");
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\nscript: env\nlabels:\n  Team: x\n"))
        .hasMessageStartingWith("job.yaml:4: labels: labels key must be");
  }

  @Test
  void parse_missingWorkloadOrAccelerators_saysWhatToAdd() {
    assertThatThrownBy(() -> parse("name: j\naccelerators: [{type: cpu}]\n"))
        .hasMessage("job.yaml: missing field 'container' or 'script': what the job runs");
    assertThatThrownBy(() -> parse("name: j\nscript: env\n"))
        .hasMessageStartingWith("job.yaml: missing field 'accelerators'");
  }

  @Test
  void parse_brokenYamlOrDuplicateKey_namesTheLine() {
    assertThatThrownBy(() -> parse("name: j\nname: k\naccelerators: [{type: cpu}]\nscript: env\n"))
        .hasMessageStartingWith("job.yaml:2: not valid YAML: Duplicate field 'name'");
    assertThatThrownBy(() -> parse("name: [j\n"))
        .hasMessageStartingWith("job.yaml:").hasMessageContaining("not valid YAML");
  }

  @Test
  void schema_topLevelProperties_areExactlyTheJobFileFields() throws Exception {
    JsonNode schema = new ObjectMapper().readTree(JobFile.schema());
    List<String> props = new ArrayList<>();
    schema.get("properties").fieldNames().forEachRemaining(props::add);

    assertThat(props).containsExactlyElementsOf(JobFile.topLevelKeys());
    assertThat(Files.readString(Path.of(System.getProperty("accel.dispatch.examples", "../examples")).resolve("job-file.schema.json")))
        .as("examples/job-file.schema.json is a copy of the schema in the jar").isEqualTo(JobFile.schema());
  }

  @Test
  void durationText_formatThenParse_isExact() {
    for (Duration d : List.of(Duration.ofMillis(1), Duration.ofSeconds(90), Duration.ofHours(49).plusMillis(5), Duration.ofNanos(1500))) {
      assertThat(DurationText.parse(DurationText.format(d))).isEqualTo(d);
    }
    assertThat(DurationText.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
  }
}
