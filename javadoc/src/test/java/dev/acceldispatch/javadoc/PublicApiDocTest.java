package dev.acceldispatch.javadoc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published modules' public API is documented: every public or protected type, constructor,
 * method and field outside {@code internal} packages has a doc comment, and every package has a
 * {@code package-info.java}. Uses javac's doclint (much faster than a second Javadoc run).
 */
class PublicApiDocTest {
  /** The published modules' source roots, relative to this module. */
  static final List<String> PUBLISHED = List.of(
      "core", "testkit", "providers/gcp-tpu", "providers/gcp-gpu", "providers/azure-gpu", "providers/local",
      "jdbc-store", "micrometer", "spring-boot-starter");

  private static List<Path> sourceRoots() {
    return PUBLISHED.stream().map(m -> Path.of("..", m, "src/main/java")).filter(Files::isDirectory).toList();
  }

  private static List<Path> sources() throws IOException {
    List<Path> all = new ArrayList<>();
    for (Path root : sourceRoots()) {
      try (Stream<Path> files = Files.walk(root)) {
        files.filter(p -> p.toString().endsWith(".java")).forEach(all::add);
      }
    }
    return all;
  }

  @Test
  void publishedModules_publicAndProtectedElements_allHaveADocComment(@TempDir Path classes) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    boolean compiled;
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
      List<String> options = List.of(
          "-proc:none", "-implicit:none", "-d", classes.toString(),
          "-classpath", System.getProperty("java.class.path"),
          "-Xdoclint:missing/protected", "-Xdoclint/package:-dev.acceldispatch.internal.*",
          "-Xmaxwarns", "100000", "-XDshould-stop.ifNoError=FLOW");
      compiled = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sources()))
          .call();
    }
    assertThat(compiled).as("the published sources compile: %s", diagnostics.getDiagnostics()).isTrue();

    List<String> noComment = new ArrayList<>();
    Map<String, Integer> missingTags = new TreeMap<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      String message = d.getMessage(Locale.ROOT);
      String where = d.getSource() == null ? "?" : Path.of(d.getSource().toUri()).normalize() + ":" + d.getLineNumber();
      if (message.equals("no comment")) {
        noComment.add(where);
      } else if (message.startsWith("no @")) {
        missingTags.merge(message.replaceAll(" for .*", ""), 1, Integer::sum);
      }
    }
    // Not a failure: the codebase documents members with one-line summaries, not tag by tag.
    System.out.println("doclint: missing block tags (not enforced): " + missingTags);
    assertThat(noComment).as("public or protected API without a doc comment").isEmpty();
  }

  @Test
  void publishedModules_everyPackage_hasPackageInfo() throws IOException {
    Set<Path> packages = sources().stream().map(Path::getParent).collect(Collectors.toSet());

    assertThat(packages).isNotEmpty()
        .allSatisfy(dir -> assertThat(dir.resolve("package-info.java")).as("package-info.java in %s", dir).exists());
  }
}
