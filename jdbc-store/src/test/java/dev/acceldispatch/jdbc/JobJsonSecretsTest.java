package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.jdbc.internal.JobJson;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spec document's secret variables: sealed, referenced, in clear by opt-in, and format 1. */
class JobJsonSecretsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final KeyRingCodec KEYS = new KeyRingCodec(SecretKeyRing.of("k1", SecretKeyRing.newKey()), false);

  private static JobSpec spec() {
    return JobSpec.builder("j").script("true")
        .secretEnv("TOKEN", Secret.of("tok-55c1 'q' ü"))
        .secretEnv("REF", Secret.fromDispatcherEnv("HF_TOKEN"))
        .accelerators(Shapes.cpu()).build();
  }

  @Test
  void writeSpec_sealsLiteralsAndKeepsReferences_readSpecGivesTheSameSpec() throws Exception {
    String json = JobJson.writeSpec(spec(), "job1", KEYS);
    assertThat(json).doesNotContain("tok-55c1").contains("\"REF\":{\"kind\":\"DISPATCHER_ENV\",\"reference\":\"HF_TOKEN\"}");
    assertThat(MAPPER.readTree(json).at("/workload/secretEnv/TOKEN/keyId").asText()).isEqualTo("k1");
    assertThat(JobJson.readSpec(json, "job1", KEYS)).isEqualTo(spec());
  }

  @Test
  void writeSpec_literalWithoutKeyOrOptIn_isRefused() {
    assertThatThrownBy(() -> JobJson.writeSpec(spec(), "job1", new KeyRingCodec(null, false)))
        .isInstanceOf(JdbcStoreException.class).hasMessageContaining("job job1: workload.secretEnv [TOKEN]");
    // References alone need no key.
    JobSpec refsOnly = JobSpec.builder("j").script("true").secretEnv("REF", Secret.fromDispatcherEnv("X"))
        .accelerators(Shapes.cpu()).build();
    assertThat(JobJson.readSpec(JobJson.writeSpec(refsOnly, "job1", new KeyRingCodec(null, false)), "job1", KEYS)).isEqualTo(refsOnly);
  }

  @Test
  void unreadableValue_isWrittenBackExactlyAsItWasStored() throws Exception {
    String json = JobJson.writeSpec(spec(), "job1", KEYS);
    KeyRingCodec other = new KeyRingCodec(SecretKeyRing.of("k2", SecretKeyRing.newKey()), false);
    JobSpec read = JobJson.readSpec(json, "job1", other);
    assertThat(read.workload().secretEnv().get("TOKEN").kind()).isEqualTo(Secret.Kind.UNAVAILABLE);

    String rewritten = JobJson.writeSpec(read, "job1", other);

    assertThat(MAPPER.readTree(rewritten).at("/workload/secretEnv/TOKEN")).isEqualTo(MAPPER.readTree(json).at("/workload/secretEnv/TOKEN"));
    assertThat(JobJson.readSpec(rewritten, "job1", KEYS)).isEqualTo(spec());
  }

  @Test
  void formatOne_clearStringsFromAnEarlierRelease_areReadAndResealed() throws Exception {
    ObjectNode doc = (ObjectNode) MAPPER.readTree(JobJson.writeSpec(spec(), "job1", new KeyRingCodec(null, true)));
    doc.put("format", 1);
    ObjectNode env = (ObjectNode) doc.at("/workload/secretEnv");
    env.removeAll();
    env.put("TOKEN", "tok-55c1 'q' ü");
    String formatOne = doc.toString();
    JobSpec expected = JobSpec.builder("j").script("true").secretEnv("TOKEN", Secret.of("tok-55c1 'q' ü"))
        .accelerators(Shapes.cpu()).build();
    assertThat(JobJson.readSpec(formatOne, "job1", KEYS)).isEqualTo(expected);

    List<String> unreadable = new ArrayList<>();
    String resealed = JobJson.resealSpec(formatOne, "job1", KEYS, unreadable::add);

    assertThat(unreadable).isEmpty();
    assertThat(resealed).doesNotContain("tok-55c1").contains("\"format\":2").contains("\"keyId\":\"k1\"");
    assertThat(JobJson.readSpec(resealed, "job1", KEYS)).isEqualTo(expected);
    assertThat(JobJson.resealSpec(resealed, "job1", KEYS, unreadable::add)).as("already current").isNull();
  }
}
