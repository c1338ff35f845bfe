/**
 * The local provider: runs jobs as processes on this machine and pins its NVIDIA GPUs.
 *
 * <p>The API of this package is {@link dev.acceldispatch.local.LocalProvider} and its
 * {@link dev.acceldispatch.local.LocalProvider.Builder}. Every other type here is package-private
 * and may change without notice.
 *
 * <p>How it works, in one paragraph: at build time the provider asks {@code nvidia-smi} for the
 * GPUs, maps their names to catalog types and offers every GPU shape that fits (plus a CPU-only
 * shape). {@code provision} picks free devices under a lock that also spans processes (a file
 * lock in the state directory), writes the attempt's startup script with
 * {@link dev.acceldispatch.spi.StartupScript}, and starts it with {@code /bin/sh} in a new session
 * ({@code setsid}), with {@code CUDA_VISIBLE_DEVICES} pinned. The script reports the exit code to a
 * file in the attempt's state folder. {@code status} reads that file and checks the recorded process
 * (pid plus start time), so it works the same after the dispatcher restarts. {@code release}
 * terminates the whole process tree (process group, descendants, and anything carrying the
 * attempt's marker variable), then kills what is left after a grace period, then forgets the
 * attempt and frees its devices.
 */
package dev.acceldispatch.local;
