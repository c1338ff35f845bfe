package dev.acceldispatch.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.acceldispatch.SecretUnavailableException;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class SecretKeyRingTest {
  private static final byte[] K1 = SecretKeyRing.newKey();
  private static final byte[] K2 = SecretKeyRing.newKey();

  @Test
  void builder_currentAndPrevious_currentFirstAndToStringShowsIdsOnly() {
    SecretKeyRing ring = SecretKeyRing.builder().previous("old", K1).current("new", K2).build();
    assertThat(ring.currentKeyId()).isEqualTo("new");
    assertThat(ring.keyIds()).containsExactly("new", "old");
    assertThat(ring.toString()).isEqualTo("SecretKeyRing{current=new, keys=[new, old]}")
        .doesNotContain(HexFormat.of().formatHex(K1).substring(0, 8))
        .doesNotContain(Base64.getEncoder().encodeToString(K2).substring(0, 8));
  }

  @Test
  void builder_badKeys_areRejectedNamingTheKeyAndWhatIsAllowed() {
    assertThatThrownBy(() -> SecretKeyRing.of("k", new byte[16]))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("key 'k' must be 32 bytes (AES-256), got 16");
    assertThatThrownBy(() -> SecretKeyRing.of("k 1", K1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyId must be 1 to 64 of [A-Za-z0-9._-]");
    assertThatThrownBy(() -> SecretKeyRing.builder().current("a", K1).previous("a", K2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a' is given twice");
    assertThatThrownBy(() -> SecretKeyRing.builder().previous("a", K1).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("current(keyId, key)");
    assertThatThrownBy(() -> SecretKeyRing.builder().current("a", K1).current("b", K2))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("previous(...)");
  }

  @Test
  void builder_hostWipesItsArrayAfterwards_ringStillWorks() {
    byte[] key = SecretKeyRing.newKey();
    KeyRingCodec codec = new KeyRingCodec(SecretKeyRing.of("k", key), false);
    String sealed = codec.seal("j1", "TOKEN", "value");
    java.util.Arrays.fill(key, (byte) 0);
    assertThat(codec.open("j1", "TOKEN", "k", sealed)).isEqualTo("value");
  }

  @Test
  void seal_sameValueTwice_givesDifferentCiphertextsThatBothOpen() {
    KeyRingCodec codec = new KeyRingCodec(SecretKeyRing.of("k", K1), false);
    String a = codec.seal("j1", "TOKEN", "same value");
    String b = codec.seal("j1", "TOKEN", "same value");
    assertThat(a).isNotEqualTo(b);
    assertThat(Base64.getDecoder().decode(a)).hasSize(12 + "same value".length() + 16);
    assertThat(codec.open("j1", "TOKEN", "k", a)).isEqualTo(codec.open("j1", "TOKEN", "k", b)).isEqualTo("same value");
  }

  @Test
  void open_otherJobOrVariableOrAlteredByte_failsWithoutTheValue() {
    KeyRingCodec codec = new KeyRingCodec(SecretKeyRing.of("k", K1), false);
    String sealed = codec.seal("j1", "TOKEN", "value-7781");
    assertThatThrownBy(() -> codec.open("j2", "TOKEN", "k", sealed))
        .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("of job j2").hasMessageNotContaining("value-7781");
    assertThatThrownBy(() -> codec.open("j1", "OTHER", "k", sealed)).isInstanceOf(SecretUnavailableException.class);
    byte[] raw = Base64.getDecoder().decode(sealed);
    raw[raw.length - 1] ^= 1;
    assertThatThrownBy(() -> codec.open("j1", "TOKEN", "k", Base64.getEncoder().encodeToString(raw)))
        .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("does not decrypt with key 'k'");
    assertThatThrownBy(() -> codec.open("j1", "TOKEN", "k", "%%%"))
        .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("not base64");
    assertThatThrownBy(() -> codec.open("j1", "TOKEN", "k", "AAAA"))
        .isInstanceOf(SecretUnavailableException.class).hasMessageContaining("too short");
  }

  @Test
  void open_keyNotInTheRingOrNoRing_saysWhichKeyIsNeeded() {
    String sealed = new KeyRingCodec(SecretKeyRing.of("k1", K1), false).seal("j1", "TOKEN", "v");
    assertThatThrownBy(() -> new KeyRingCodec(SecretKeyRing.of("k2", K2), false).open("j1", "TOKEN", "k1", sealed))
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessageContaining("encrypted with key 'k1', which is not in this store's key ring [k2]");
    assertThatThrownBy(() -> new KeyRingCodec(null, true).open("j1", "TOKEN", "k1", sealed))
        .isInstanceOf(SecretUnavailableException.class)
        .hasMessageContaining("built without secretKeys(...)");
  }
}
