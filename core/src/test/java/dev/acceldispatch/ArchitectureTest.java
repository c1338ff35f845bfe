package dev.acceldispatch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Keeps the core free of clouds and the API free of the engine's internals. */
class ArchitectureTest {
  private static final JavaClasses CORE =
      new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.acceldispatch");

  @Test
  void core_importsNoProviderNoStoreAndNoCloudSdk() {
    noClasses().should().dependOnClassesThat().resideInAnyPackage(
            "dev.acceldispatch.gcp..", "dev.acceldispatch.azure..", "dev.acceldispatch.local..", "dev.acceldispatch.jdbc..",
            "dev.acceldispatch.testkit..", "com.google..", "com.azure..", "io.grpc..")
        .check(CORE);
  }

  @Test
  void apiPackages_doNotImportInternal_exceptTheBuilderThatStartsTheEngine() {
    noClasses().that().resideInAnyPackage("dev.acceldispatch", "dev.acceldispatch.spi", "dev.acceldispatch.event")
        .and().doNotHaveFullyQualifiedName("dev.acceldispatch.Dispatcher$Builder")
        .should().dependOnClassesThat().resideInAPackage("dev.acceldispatch.internal..")
        .check(CORE);
  }

  @Test
  void apiPackages_doNotUseFailsafe() {
    noClasses().that().resideInAnyPackage("dev.acceldispatch", "dev.acceldispatch.spi", "dev.acceldispatch.event")
        .should().dependOnClassesThat().resideInAPackage("dev.failsafe..")
        .check(CORE);
  }
}
