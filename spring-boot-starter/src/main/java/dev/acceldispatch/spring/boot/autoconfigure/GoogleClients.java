package dev.acceldispatch.spring.boot.autoconfigure;

import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.rpc.ClientSettings;
import dev.acceldispatch.gcp.NetworkEgress;
import java.util.Arrays;
import java.util.Locale;
import org.springframework.beans.factory.ObjectProvider;

/**
 * What the Google provider configurations have in common: the application's credentials on the
 * clients the starter makes, and the egress property. Loaded only from those configurations, once
 * their provider (and so gcp-common) is known to be on the class path.
 */
final class GoogleClients {
  private GoogleClients() {}

  /**
   * Gives {@code settings} the application's {@link CredentialsProvider} bean when it has exactly
   * one; otherwise the client finds Application Default Credentials itself.
   */
  static <B extends ClientSettings.Builder<?, B>> B withHostCredentials(
      B settings, ObjectProvider<CredentialsProvider> credentials) {
    CredentialsProvider host = credentials.getIfUnique();
    if (host != null) {
      settings.setCredentialsProvider(host);
    }
    return settings;
  }

  /**
   * The egress property's value as the providers' enum ({@code cloud-nat} and {@code CLOUD_NAT}
   * alike); any other value fails naming {@code property} and the allowed values.
   */
  static NetworkEgress networkEgress(String value, String property) {
    try {
      return NetworkEgress.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(property + ": '" + value + "' is not one of "
          + Arrays.toString(NetworkEgress.values()), e);
    }
  }

  /**
   * Fails, in the properties' words, when neither {@code <prefix>.egress} nor {@code
   * <prefix>.external-ip=true} is set: the provider's own check names only its builder method.
   */
  static void requireEgress(String egress, Boolean externalIp, String prefix) {
    if (egress == null && !Boolean.TRUE.equals(externalIp)) {
      throw new IllegalStateException(prefix + ".egress: the machines get no external IP (" + prefix
          + ".external-ip=false, the default), so their subnet must provide egress to pull images; set it to one of "
          + Arrays.toString(NetworkEgress.values()) + ", or set " + prefix + ".external-ip=true");
    }
  }
}
