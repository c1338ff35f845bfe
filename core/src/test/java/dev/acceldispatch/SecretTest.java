package dev.acceldispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretTest {
  @TempDir Path dir;

  @Test
  void of_literal_revealsTheValueButNeverPrintsIt() {
    Secret s = Secret.of("hf_abc123");
    assertThat(s.kind()).isEqualTo(Secret.Kind.LITERAL);
    assertThat(s.isReference()).isFalse();
    assertThat(s.reveal()).isEqualTo("hf_abc123");
    assertThat(s.toString()).isEqualTo("****");
    assertThatThrownBy(s::reference).isInstanceOf(IllegalStateException.class).hasMessageNotContaining("hf_abc123");
  }

  @Test
  void fromDispatcherEnv_setVariable_readsItAtReveal() {
    // A variable every test JVM has; the point is that the value comes from the environment.
    Map.Entry<String, String> any = System.getenv().entrySet().stream()
        .filter(e -> e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")).findFirst().orElseThrow();
    Secret s = Secret.fromDispatcherEnv(any.getKey());
    assertThat(s.isReference()).isTrue();
    assertThat(s.reference()).isEqualTo(any.getKey());
    assertThat(s.reveal()).isEqualTo(any.getValue());
    assertThat(s.toString()).isEqualTo("Secret{DISPATCHER_ENV " + any.getKey() + "}");
  }

  @Test
  void fromDispatcherEnv_unsetVariable_failsNamingTheReference() {
    Secret s = Secret.fromDispatcherEnv("ACCEL_DISPATCH_TEST_UNSET_91bd");
    assertThatThrownBy(s::reveal)
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessage("secret reference dispatcher environment variable 'ACCEL_DISPATCH_TEST_UNSET_91bd' cannot be resolved:"
            + " the variable is not set on the dispatcher's host");
  }

  @Test
  void fromDispatcherEnv_badName_isRejectedNamingWhatIsAllowed() {
    assertThatThrownBy(() -> Secret.fromDispatcherEnv("HF-TOKEN"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("variable must match [A-Za-z_][A-Za-z0-9_]*")
        .hasMessageContaining("'HF-TOKEN'");
  }

  @Test
  void fromDispatcherFile_readsTheWholeFileByteForByte() throws IOException {
    Path f = dir.resolve("token");
    String value = "line1 'q' \"d\" ü 😀\n\tline2\n";
    Files.writeString(f, value, StandardCharsets.UTF_8);
    Secret s = Secret.fromDispatcherFile(f);
    assertThat(s.reveal()).isEqualTo(value);
    // Read at each reveal: a rotated file is picked up by the next launch.
    Files.writeString(f, "rotated", StandardCharsets.UTF_8);
    assertThat(s.reveal()).isEqualTo("rotated");
  }

  @Test
  void fromDispatcherFile_missingOrNotUtf8_failsNamingTheFileOnly() throws IOException {
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> Secret.fromDispatcherFile(missing).reveal())
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessageContaining("dispatcher file '" + missing + "'")
        .hasMessageContaining("no such file");
    Path binary = dir.resolve("binary");
    Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 'Z', 'q', '9', 'X'});
    assertThatThrownBy(() -> Secret.fromDispatcherFile(binary).reveal())
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessageContaining("not UTF-8 text")
        .hasMessageNotContaining("Zq9X");
  }

  @Test
  void fromDispatcherFile_relativePath_isRejected() {
    assertThatThrownBy(() -> Secret.fromDispatcherFile(Path.of("token.txt")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("file must be an absolute path");
  }

  @Test
  void googleSecretManager_nameWithoutVersion_meansLatestAndIsNeverResolvedHere() {
    Secret s = Secret.googleSecretManager("projects/my-proj/secrets/hf_token");
    assertThat(s.reference()).isEqualTo("projects/my-proj/secrets/hf_token/versions/latest");
    assertThat(Secret.googleSecretManager("projects/123/secrets/a/versions/7").reference())
        .isEqualTo("projects/123/secrets/a/versions/7");
    assertThatThrownBy(s::reveal)
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessageContaining("Google Secret Manager 'projects/my-proj/secrets/hf_token/versions/latest'")
        .hasMessageContaining("resolved on the machine");
  }

  @Test
  void googleSecretManager_malformedName_isRejectedNamingTheForm() {
    for (String bad : new String[] {"hf_token", "projects/p/secrets/", "projects/p/secrets/a b", "projects/p/secrets/s/versions/0",
        "projects/p/secrets/s/versions/latest/extra", "projects/P!/secrets/s"}) {
      assertThatThrownBy(() -> Secret.googleSecretManager(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("projects/PROJECT/secrets/SECRET[/versions/VERSION]");
    }
  }

  @Test
  void azureKeyVault_secretIds_areCheckedAndNeverResolvedHere() {
    Secret s = Secret.azureKeyVault("https://ml-vault.vault.azure.net/secrets/hf-token/0123456789abcdef0123456789abcdef");
    assertThat(s.kind()).isEqualTo(Secret.Kind.AZURE_KEY_VAULT);
    assertThat(Secret.azureKeyVault("https://kv1.vault.azure.cn/secrets/x").kind()).isEqualTo(Secret.Kind.AZURE_KEY_VAULT);
    assertThatThrownBy(s::reveal).isInstanceOf(SecretUnavailableException.class).hasMessageContaining("Azure Key Vault");
    for (String bad : new String[] {"http://ml-vault.vault.azure.net/secrets/x", "https://ml-vault.evil.com/secrets/x",
        "https://ml-vault.vault.azure.net/keys/x", "https://ml-vault.vault.azure.net/secrets/a_b"}) {
      assertThatThrownBy(() -> Secret.azureKeyVault(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("https://VAULT.vault.azure.net/secrets/NAME[/VERSION]");
    }
  }

  @Test
  void unavailable_revealFailsWithTheReasonAndKeepsTheStoredForm() {
    Secret s = Secret.unavailable("encrypted with key 'k1', not in the ring", "{\"keyId\":\"k1\"}");
    assertThat(s.kind()).isEqualTo(Secret.Kind.UNAVAILABLE);
    assertThat(s.isReference()).isFalse();
    assertThat(s.storedForm()).isEqualTo("{\"keyId\":\"k1\"}");
    assertThatThrownBy(s::reveal).isInstanceOf(SecretUnavailableException.class).hasMessage("encrypted with key 'k1', not in the ring");
    assertThatThrownBy(() -> Secret.of("x").storedForm()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void equals_comparesKindAndValueOrReference() {
    assertThat(Secret.of("HF")).isEqualTo(Secret.of("HF")).isNotEqualTo(Secret.fromDispatcherEnv("HF"));
    assertThat(Secret.fromDispatcherEnv("HF")).isEqualTo(Secret.fromDispatcherEnv("HF")).hasSameHashCodeAs(Secret.fromDispatcherEnv("HF"));
  }

  @Test
  void workloadToString_showsReferencesByNameOnlyAndNeverLiteralValues() {
    Workload w = Workload.script("true")
        .secretEnv("A", Secret.of("literal-value-x"))
        .secretEnv("B", Secret.googleSecretManager("projects/p/secrets/b"))
        .build();
    assertThat(w.toString()).contains("A", "B").doesNotContain("literal-value-x");
  }
}
