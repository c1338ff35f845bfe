package dev.acceldispatch.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The seed of the {@link VirtualCloud}'s cloud model (its random preemptions and faults), on a test method or class. */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface VirtualCloudSeed {
  /** The seed. */
  long value();
}
