package dev.acceldispatch.samples;

import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Secret;
import dev.acceldispatch.Shapes;
import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.jdbc.SecretKeyRing;
import javax.sql.DataSource;

/**
 * The README's secrets snippet: a job given a Secret Manager reference (resolved on the VM), a
 * variable of the dispatcher's host (read at launch) and a literal value, and the durable store that
 * keeps the literal value only encrypted with the host's key.
 */
public final class SecretsSample {
  private SecretsSample() {}

  /**
   * A fine-tuning job whose three secrets are given in the three ways the README shows, and the
   * durable store on {@code ds} that encrypts its literal value with {@code key32Bytes}.
   */
  public static Example example(DataSource ds, byte[] key32Bytes, String password) {
    JobSpec spec = JobSpec.builder("finetune").script("python train.py").accelerators(Shapes.cpu())
        .secretEnv("HF_TOKEN", Secret.googleSecretManager("projects/p/secrets/hf-token"))  // resolved on the VM
        .secretEnv("WANDB_KEY", Secret.fromDispatcherEnv("WANDB_API_KEY"))                // read at launch
        .secretEnv("DB_PASSWORD", Secret.of(password))                                    // a literal value
        .build();
    JdbcJobStore store = JdbcJobStore.builder(ds).secretKeys(SecretKeyRing.of("2026-06", key32Bytes)).build();
    return new Example(spec, store);
  }

  /** The job and the store of {@link #example}; the caller closes the store. */
  public record Example(JobSpec spec, JdbcJobStore store) {}
}
