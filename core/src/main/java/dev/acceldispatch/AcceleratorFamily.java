package dev.acceldispatch;

/** The kind of device an {@link AcceleratorType} is. */
public enum AcceleratorFamily {
  /** A Google Cloud TPU chip. */
  TPU,
  /** A GPU. */
  GPU,
  /**
   * No accelerator at all: plain CPU capacity, for workloads that need none (the local provider
   * offers it on machines without GPUs).
   */
  CPU
}
