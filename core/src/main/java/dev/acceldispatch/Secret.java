package dev.acceldispatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A secret the workload needs in its environment, such as an API token: either a literal value, or
 * a <em>reference</em> to where the value lives, resolved only when the job is launched.
 *
 * <ul>
 *   <li>{@link #of(String)}: a literal value. Durable stores keep it only encrypted (see the
 *       JDBC store's key ring) and the in-memory store only in memory.
 *   <li>{@link #fromDispatcherEnv(String)}, {@link #fromDispatcherFile(Path)}: an environment
 *       variable or a file of the host running the dispatcher, read when an attempt is launched.
 *   <li>{@link #googleSecretManager(String)}, {@link #azureKeyVault(String)}: a secret in a
 *       cloud's secret store, read on the machine with the machine's own identity by a provider
 *       that supports that store; the dispatcher never sees the value.
 * </ul>
 *
 * <p>A reference is not itself secret: stores keep it as it is, and {@link #toString()} shows it.
 * A literal value never appears in {@link #toString()}, in an exception message or in a log line;
 * only {@link #reveal()} returns it, and only providers call it, at the moment they hand it to the
 * machine. A reference that cannot be resolved fails with a {@link SecretUnavailableException}
 * naming the reference, never a value.
 */
public final class Secret {
  /** Where a secret's value comes from. */
  public enum Kind {
    /** A value given in the job spec. */
    LITERAL,
    /** An environment variable of the dispatcher's host, read at launch. */
    DISPATCHER_ENV,
    /** A file of the dispatcher's host (its whole content, UTF-8), read at launch. */
    DISPATCHER_FILE,
    /** A Google Secret Manager secret version, read on the machine. */
    GOOGLE_SECRET_MANAGER,
    /** An Azure Key Vault secret, read on the machine. */
    AZURE_KEY_VAULT,
    /**
     * A value a store holds but cannot read back (for example one encrypted with a key it was not
     * given); {@link #reveal()} fails with the reason. Made only by stores.
     */
    UNAVAILABLE;

    /** True for the references the dispatcher resolves itself, on its own host. */
    public boolean isDispatcherHost() {
      return this == DISPATCHER_ENV || this == DISPATCHER_FILE;
    }

    /** True for references to a cloud's secret store, which only the machine resolves. */
    public boolean isCloudStore() {
      return this == GOOGLE_SECRET_MANAGER || this == AZURE_KEY_VAULT;
    }
  }

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  // https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
  // (name: projects/*/secrets/*/versions/*; secret ids are [A-Za-z0-9_-]{1,255}).
  private static final Pattern GSM_NAME = Pattern.compile(
      "projects/([a-z0-9][a-z0-9-]{0,62}|[0-9]{1,20})/secrets/([A-Za-z0-9_-]{1,255})(/versions/([1-9][0-9]{0,18}|latest))?");
  // https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers
  // (https://{vault}.vault.azure.net/secrets/{name}[/{version}]; vault names 3-24 of [A-Za-z0-9-],
  // secret names 1-127 of [A-Za-z0-9-], versions 32 hex digits), with the sovereign clouds' suffixes.
  private static final Pattern AKV_ID = Pattern.compile(
      "https://[A-Za-z0-9-]{3,24}\\.vault\\.(azure\\.net|azure\\.cn|usgovcloudapi\\.net|microsoftazure\\.de)"
          + "/secrets/[A-Za-z0-9-]{1,127}(/[0-9a-fA-F]{32})?");

  private final Kind kind;
  /** The value for a literal, the reference otherwise, the reason for {@link Kind#UNAVAILABLE}. */
  private final String text;
  /** For {@link Kind#UNAVAILABLE}: the store's own form, written back unchanged. */
  private final String storedForm;

  private Secret(Kind kind, String text, String storedForm) {
    this.kind = kind;
    this.text = text;
    this.storedForm = storedForm;
  }

  /** Wraps a literal secret value. */
  public static Secret of(String value) {
    return new Secret(Kind.LITERAL, Objects.requireNonNull(value, "value"), null);
  }

  /**
   * A reference to an environment variable of the host running the dispatcher, read each time an
   * attempt is launched.
   *
   * @param variable a variable name, {@code [A-Za-z_][A-Za-z0-9_]*}
   */
  public static Secret fromDispatcherEnv(String variable) {
    requireMatch(ENV_NAME, variable, "variable", "variable must match [A-Za-z_][A-Za-z0-9_]*");
    return new Secret(Kind.DISPATCHER_ENV, variable, null);
  }

  /**
   * A reference to a file of the host running the dispatcher, whose whole content (UTF-8, byte for
   * byte: a trailing newline is part of the value) is read each time an attempt is launched.
   *
   * @param file an absolute path
   */
  public static Secret fromDispatcherFile(Path file) {
    Objects.requireNonNull(file, "file");
    if (!file.isAbsolute()) {
      throw new IllegalArgumentException(
          "secret reference: file must be an absolute path (the dispatcher may run elsewhere), got '" + file + "'");
    }
    return new Secret(Kind.DISPATCHER_FILE, file.normalize().toString(), null);
  }

  /**
   * A reference to a Google Secret Manager secret version, read on the machine with its service
   * account (which needs {@code roles/secretmanager.secretAccessor} on the secret).
   *
   * @param name {@code projects/PROJECT/secrets/SECRET/versions/VERSION} (a number or {@code
   *     latest}); without {@code /versions/...} the latest version
   */
  public static Secret googleSecretManager(String name) {
    requireMatch(GSM_NAME, name, "name", "a Google Secret Manager name must be projects/PROJECT/secrets/SECRET[/versions/VERSION]"
        + " (SECRET of [A-Za-z0-9_-], VERSION a number or 'latest')");
    return new Secret(Kind.GOOGLE_SECRET_MANAGER, name.contains("/versions/") ? name : name + "/versions/latest", null);
  }

  /**
   * A reference to an Azure Key Vault secret, read on the VM with its managed identity (which
   * needs the "Key Vault Secrets User" role, or a get-secret access policy).
   *
   * @param secretId {@code https://VAULT.vault.azure.net/secrets/NAME[/VERSION]}; without a
   *     version the current one
   */
  public static Secret azureKeyVault(String secretId) {
    requireMatch(AKV_ID, secretId, "secretId", "an Azure Key Vault secret id must be https://VAULT.vault.azure.net/secrets/NAME[/VERSION]"
        + " (VAULT 3-24 and NAME 1-127 of [A-Za-z0-9-], VERSION 32 hex digits)");
    return new Secret(Kind.AZURE_KEY_VAULT, secretId, null);
  }

  private static void requireMatch(Pattern pattern, String value, String field, String allowed) {
    Objects.requireNonNull(value, field);
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException("secret reference: " + allowed + ", got '" + value + "'");
    }
  }

  /**
   * For stores: a secret the store holds but cannot read back. {@link #reveal()} fails with
   * {@code reason}, so a job that needs the value fails with it; {@code storedForm} is what the
   * store keeps (for example the ciphertext), written back unchanged when the job is updated, so
   * that a restart with the right key still finds the value.
   *
   * @param reason why, naming keys or references, never a value
   * @param storedForm the store's own representation, opaque to everyone else
   */
  public static Secret unavailable(String reason, String storedForm) {
    return new Secret(Kind.UNAVAILABLE, Objects.requireNonNull(reason, "reason"), Objects.requireNonNull(storedForm, "storedForm"));
  }

  /** Where the value comes from. */
  public Kind kind() {
    return kind;
  }

  /** True unless this is a {@link Kind#LITERAL} value (or an {@link Kind#UNAVAILABLE} one). */
  public boolean isReference() {
    return kind != Kind.LITERAL && kind != Kind.UNAVAILABLE;
  }

  /**
   * The reference: the variable name, the absolute file path, the Secret Manager version name or
   * the Key Vault secret id.
   *
   * @throws IllegalStateException for a literal or unavailable value, which has no reference
   */
  public String reference() {
    if (!isReference()) {
      throw new IllegalStateException("a " + kind + " secret has no reference");
    }
    return text;
  }

  /**
   * For {@link Kind#UNAVAILABLE}: the store's own representation given to {@link #unavailable}.
   *
   * @throws IllegalStateException for every other kind
   */
  public String storedForm() {
    if (kind != Kind.UNAVAILABLE) {
      throw new IllegalStateException("only an UNAVAILABLE secret has a stored form");
    }
    return storedForm;
  }

  /**
   * The value: a literal's value, or a dispatcher-host reference read now. Never log it.
   *
   * @throws SecretUnavailableException when the reference cannot be resolved here (a missing
   *     variable or file, a cloud-store reference, which only the machine resolves) or the store
   *     could not read the value; the message names the reference, never a value
   */
  public String reveal() {
    switch (kind) {
      case LITERAL:
        return text;
      case DISPATCHER_ENV: {
        String v = System.getenv(text);
        if (v == null) {
          throw new SecretUnavailableException(describe() + " cannot be resolved: the variable is not set on the dispatcher's host");
        }
        return v;
      }
      case DISPATCHER_FILE:
        return readFile();
      case UNAVAILABLE:
        throw new SecretUnavailableException(text);
      default:
        throw new SecretUnavailableException(describe() + " is resolved on the machine by a provider that supports "
            + (kind == Kind.GOOGLE_SECRET_MANAGER ? "Google Secret Manager" : "Azure Key Vault")
            + ", never by the dispatcher");
    }
  }

  private String readFile() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(Path.of(text));
    } catch (NoSuchFileException e) {
      throw new SecretUnavailableException(describe() + " cannot be resolved: no such file on the dispatcher's host");
    } catch (IOException | SecurityException e) {
      // The exception's own message names the path and the reason, never the content.
      throw new SecretUnavailableException(describe() + " cannot be resolved: " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SecretUnavailableException(describe() + " cannot be resolved: the file is not UTF-8 text");
    }
  }

  /** The reference in words, for messages: {@code dispatcher environment variable 'HF_TOKEN'}. */
  public String describe() {
    return switch (kind) {
      case LITERAL -> "a literal value";
      case DISPATCHER_ENV -> "secret reference dispatcher environment variable '" + text + "'";
      case DISPATCHER_FILE -> "secret reference dispatcher file '" + text + "'";
      case GOOGLE_SECRET_MANAGER -> "secret reference Google Secret Manager '" + text + "'";
      case AZURE_KEY_VAULT -> "secret reference Azure Key Vault '" + text + "'";
      case UNAVAILABLE -> "an unreadable stored value";
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret s && s.kind == kind && s.text.equals(text) && Objects.equals(s.storedForm, storedForm);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + text.hashCode();
  }

  /** {@code ****} for a literal value; the kind and the reference otherwise. */
  @Override
  public String toString() {
    return switch (kind) {
      case LITERAL -> "****";
      case UNAVAILABLE -> "Secret{unavailable}";
      default -> "Secret{" + kind + " " + text + "}";
    };
  }
}
