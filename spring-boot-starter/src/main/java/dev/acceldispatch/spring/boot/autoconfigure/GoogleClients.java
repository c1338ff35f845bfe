package dev.acceldispatch.spring.boot.autoconfigure;

import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.rpc.ClientSettings;
import org.springframework.beans.factory.ObjectProvider;

/** What the Google client beans the starter makes have in common: the application's credentials. */
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
}
