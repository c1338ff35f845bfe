package dev.acceldispatch.samples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * No module reaches into another module's {@code internal} packages: those are free to change
 * between releases, and the published API is {@code dev.acceldispatch}, {@code .spi} and {@code
 * .event} (plus each module's own public packages). Checked here because this module sees every
 * module of the library on its class path. A module is where a class was loaded from (its jar or
 * classes directory), so a new module is covered without naming it.
 */
class ModuleBoundariesTest {
  private static final JavaClasses ALL = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.acceldispatch");

  @Test
  void everyModule_reachesNoOtherModulesInternalPackage() {
    classes().should(reachOnlyTheirOwnModulesInternals())
        // The public builder starts the engine: the one door from the API into core's internals.
        .allowEmptyShould(false)
        .check(ALL.that(com.tngtech.archunit.base.DescribedPredicate.not(
            JavaClass.Predicates.equivalentTo(dev.acceldispatch.Dispatcher.Builder.class))));
  }

  @Test
  void theImport_seesSeveralModules() {
    Set<String> modules = ALL.stream().map(ModuleBoundariesTest::moduleOf).collect(Collectors.toSet());
    // core, testkit, jdbc-store, the providers and this one: the rule above would prove nothing on one.
    assertThat(modules).hasSizeGreaterThanOrEqualTo(5);
  }

  private static ArchCondition<JavaClass> reachOnlyTheirOwnModulesInternals() {
    return new ArchCondition<>("reach only their own module's internal packages") {
      @Override
      public void check(JavaClass origin, ConditionEvents events) {
        for (Dependency d : origin.getDirectDependenciesFromSelf()) {
          JavaClass target = d.getTargetClass().getBaseComponentType();
          if (isInternal(target) && !moduleOf(target).equals(moduleOf(origin)) && !isGoogleShared(origin, target)) {
            events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": " + target.getPackageName()
                + " is internal to " + moduleOf(target)));
          }
        }
      }
    };
  }

  /**
   * The one exception: gcp-common exists to hold what the two Google providers share (one label
   * function, one exit reporter, ...), so they, and only they, use its internal package. It is
   * released with them from the same reactor and pinned by the same BOM, so it cannot drift apart.
   */
  private static boolean isGoogleShared(JavaClass origin, JavaClass target) {
    return target.getPackageName().equals("dev.acceldispatch.gcp.internal")
        && (origin.getPackageName().startsWith("dev.acceldispatch.gcp.tpu")
            || origin.getPackageName().startsWith("dev.acceldispatch.gcp.gpu"));
  }

  private static boolean isInternal(JavaClass c) {
    String pkg = c.getPackageName();
    return pkg.startsWith("dev.acceldispatch.") && (pkg.endsWith(".internal") || pkg.contains(".internal."));
  }

  /** The jar or classes directory a class was loaded from, up to the start of its package path. */
  private static String moduleOf(JavaClass c) {
    String uri = c.getSource().map(s -> s.getUri().toString()).orElse("?");
    int at = uri.indexOf("dev/acceldispatch/");
    return at < 0 ? uri : uri.substring(0, at);
  }
}
