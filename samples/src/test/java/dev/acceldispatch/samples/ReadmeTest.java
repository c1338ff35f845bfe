package dev.acceldispatch.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README honest: every Java sample in it is compiled code from this module, the two
 * commands are the ones CI and the samples' build run, and the coordinates name real modules.
 */
class ReadmeTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern FENCE = Pattern.compile("(?m)^```(\\w*)\\n(.*?)^```\\n", Pattern.DOTALL);

  static final String DEMO_COMMAND = "./mvnw -B -ntp -q -pl samples -am verify -DskipTests -Pdemo";
  static final String TEST_COMMAND = "./mvnw -B -ntp verify";

  private static String readme() throws IOException {
    return Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
  }

  private static List<String[]> blocks(String markdown) {
    List<String[]> blocks = new ArrayList<>();
    Matcher m = FENCE.matcher(markdown);
    while (m.find()) {
      blocks.add(new String[] {m.group(1), m.group(2)});
    }
    return blocks;
  }

  /** Lines without indentation, blank lines dropped. */
  private static List<String> normalized(String text) {
    return text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  @Test
  void readme_everyJavaBlock_appearsInASampleSource() throws IOException {
    List<String> sources;
    try (Stream<Path> files = Files.walk(Path.of("src"))) {
      sources = files.filter(p -> p.toString().endsWith(".java")).map(ReadmeTest::read).toList();
    }
    List<String[]> javaBlocks = blocks(readme()).stream().filter(b -> b[0].equals("java")).toList();

    assertThat(javaBlocks).hasSizeGreaterThanOrEqualTo(3);
    for (String[] block : javaBlocks) {
      List<String> wanted = normalized(block[1]);
      assertThat(sources).as("a sample source holding:%n%s", block[1])
          .anyMatch(src -> Collections2.containsRun(normalized(src), wanted));
    }
  }

  @Test
  void readme_firstCodeSample_isAtMostTenLines() throws IOException {
    String[] first = blocks(readme()).get(0);

    assertThat(first[0]).isEqualTo("java");
    assertThat(first[1].lines().count()).isLessThanOrEqualTo(10);
  }

  @Test
  void readme_commands_areExactlyTheDemoAndTheCiTestCommand() throws IOException {
    List<String> commands = blocks(readme()).stream().filter(b -> b[0].isEmpty()).map(b -> b[1].strip()).toList();

    assertThat(commands).containsExactly(DEMO_COMMAND, TEST_COMMAND);
    assertThat(Files.readAllLines(ROOT.resolve(".ci/run"))).contains(TEST_COMMAND);
    String pom = Files.readString(Path.of("pom.xml"));
    assertThat(pom).contains("<id>demo</id>").contains("<sample.main>dev.acceldispatch.samples.Demo</sample.main>");
  }

  @Test
  void readme_sampleMainClassesNamed_exist() throws IOException {
    Matcher m = Pattern.compile("-Dsample\\.main=([\\w.]+)").matcher(readme());
    int found = 0;
    while (m.find()) {
      found++;
      assertThat(Path.of("src/main/java", m.group(1).replace('.', '/') + ".java")).exists();
    }
    assertThat(found).isPositive();
  }

  @Test
  void readme_mavenCoordinates_nameModulesOfTheBom() throws IOException {
    String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
    String xml = blocks(readme()).stream().filter(b -> b[0].equals("xml")).map(b -> b[1]).findFirst().orElseThrow();
    Matcher m = Pattern.compile("<artifactId>([\\w-]+)</artifactId>").matcher(xml);
    int found = 0;
    while (m.find()) {
      found++;
      String artifact = m.group(1);
      if (!artifact.equals("accel-dispatch-bom")) {
        assertThat(bom).as("BOM entry for %s", artifact).contains("<artifactId>" + artifact + "</artifactId>");
      }
    }
    assertThat(found).isGreaterThan(2);
    assertThat(bom).contains("<artifactId>accel-dispatch-bom</artifactId>");
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A tiny helper: whether {@code haystack} holds {@code needle} as consecutive elements. */
  private static final class Collections2 {
    static boolean containsRun(List<String> haystack, List<String> needle) {
      return java.util.Collections.indexOfSubList(haystack, needle) >= 0;
    }
  }
}
