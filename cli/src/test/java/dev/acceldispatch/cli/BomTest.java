package dev.acceldispatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM pins the third-party versions the reactor was tested with, and they never drift apart. */
class BomTest {
  private static final Pattern VERSION_PROPERTY = Pattern.compile("<([a-z0-9.-]+\\.version)>([^<]+)</\\1>");

  private static Map<String, String> versions(Path pom) throws Exception {
    Map<String, String> out = new HashMap<>();
    Matcher m = VERSION_PROPERTY.matcher(Files.readString(pom));
    while (m.find()) {
      out.put(m.group(1), m.group(2));
    }
    return out;
  }

  @Test
  void bom_thirdPartyVersions_equalTheParentsAndCoverTheAzureAndJacksonPins() throws Exception {
    Map<String, String> parent = versions(Path.of("../pom.xml"));
    Map<String, String> bom = versions(Path.of("../bom/pom.xml"));

    assertThat(bom).containsKeys("azure-json.version", "azure-core.version", "jackson.version", "h2.version", "postgresql.version");
    bom.forEach((k, v) -> assertThat(parent).as("the parent's %s", k).containsEntry(k, v));
    String bomText = Files.readString(Path.of("../bom/pom.xml"));
    assertThat(bomText).contains("<artifactId>azure-json</artifactId><version>${azure-json.version}</version>")
        .contains("<artifactId>accel-dispatch-cli</artifactId>");
  }
}
