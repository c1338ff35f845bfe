package dev.acceldispatch.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Money;
import dev.acceldispatch.Secret;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * The YAML job file, one to one with {@link JobSpec}: every field of the spec has one key, and
 * {@link #write} followed by {@link #parse} gives back an equal spec. The schema is in the README
 * and in {@code job-file.schema.json}.
 *
 * <p>Secret environment values never live in the file: a {@code secretEnv} entry names where the
 * value comes from ({@code fromEnv: VARIABLE} or {@code fromFile: PATH}), read when the file is
 * parsed. Errors name the file, the line, the field and what is allowed.
 */
final class JobFile {
  static final String SCHEMA_RESOURCE = "job-file.schema.json";

  private static final List<String> TOP_KEYS = List.of(
      "name", "accelerators", "minTotalMemoryGib", "container", "script", "env", "secretEnv", "providers",
      "regions", "zones", "spot", "onDemandAfterPreemptions", "maxHourlyPrice", "maxTotalCost", "priority",
      "tenant", "labels", "preemptionBudget", "timeout", "startDeadline", "referenceRunTime", "hedge",
      "checkpointLocation");
  private static final List<String> SHAPE_KEYS = List.of("type", "count", "topology");
  private static final List<String> CONTAINER_KEYS = List.of("image", "command");
  private static final List<String> SECRET_KEYS = List.of("fromEnv", "fromFile");
  private static final List<String> REFERENCE_KEYS = List.of("shape", "runTime");

  private static final YAMLFactory FACTORY = YAMLFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .build();
  private static final YAMLMapper MAPPER = new YAMLMapper(FACTORY);

  private final String source;
  private final Map<String, Integer> lines;
  private final Function<String, String> environment;
  private final Path baseDirectory;

  private JobFile(String source, Map<String, Integer> lines, Function<String, String> environment, Path baseDirectory) {
    this.source = source;
    this.lines = lines;
    this.environment = environment;
    this.baseDirectory = baseDirectory;
  }

  /**
   * Reads a job file; {@code fromEnv} secrets come from {@code environment}, {@code fromFile}
   * paths are relative to the file's folder.
   *
   * @throws UserError naming the file, line, field and what is allowed
   */
  static JobSpec read(Path file, Function<String, String> environment) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw UserError.invalid(file + ": no such file");
    } catch (IOException e) {
      throw UserError.invalid(file + ": cannot read it: " + e.getMessage());
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(file.toString(), text, environment, dir);
  }

  /** Parses job-file text; {@code source} names it in errors. */
  static JobSpec parse(String source, String yaml, Function<String, String> environment, Path baseDirectory) {
    Map<String, Integer> lines = new HashMap<>();
    JsonNode root;
    try {
      root = readTree(yaml, lines);
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      throw UserError.invalid(source + (loc == null ? "" : ":" + loc.getLineNr()) + ": not valid YAML: " + e.getOriginalMessage());
    }
    return new JobFile(source, lines, environment, baseDirectory).toSpec(root);
  }

  /** Reads the tree and records the line of every key and list item, by JSON pointer. */
  private static JsonNode readTree(String yaml, Map<String, Integer> lines) throws JsonProcessingException {
    try (JsonParser p = FACTORY.createParser(yaml)) {
      p.setCodec(MAPPER);
      List<JsonToken> seen = new ArrayList<>();
      // First pass: positions. Second pass (below): the tree itself, from the same text.
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        seen.add(t);
        String pointer = p.getParsingContext().pathAsPointer().toString();
        if (t != JsonToken.END_OBJECT && t != JsonToken.END_ARRAY) {
          lines.putIfAbsent(pointer, p.currentTokenLocation().getLineNr());
        }
      }
      if (seen.isEmpty()) {
        return JsonNodeFactory.instance.objectNode();
      }
    } catch (JsonProcessingException e) {
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return MAPPER.readTree(yaml);
  }

  // ---- YAML -> JobSpec ------------------------------------------------------------------------------

  private JobSpec toSpec(JsonNode root) {
    if (!root.isObject()) {
      throw error("", "the job file must be a mapping of fields (name: ..., accelerators: ...), got " + kind(root));
    }
    checkKeys(root, "", TOP_KEYS);
    String name = requiredText(root, "name");
    JobSpec.Builder b = JobSpec.builder(name);
    boolean hasContainer = root.has("container");
    boolean hasScript = root.has("script");
    if (hasContainer && hasScript) {
      throw error("/script", "set either container or script, not both");
    }
    if (!hasContainer && !hasScript) {
      throw error("", "missing field 'container' or 'script': what the job runs");
    }
    Workload.Builder w;
    if (hasContainer) {
      JsonNode c = object(root.get("container"), "/container");
      checkKeys(c, "/container", CONTAINER_KEYS);
      List<String> command = c.has("command") ? stringList(c.get("command"), "/container/command") : List.of();
      w = Workload.container(requiredText(c, "/container", "image"), command.toArray(String[]::new));
    } else {
      w = Workload.script(scalar(root.get("script"), "/script"));
    }
    if (root.has("env")) {
      JsonNode env = object(root.get("env"), "/env");
      for (Iterator<Map.Entry<String, JsonNode>> it = env.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String at = "/env/" + e.getKey();
        attemptRun(at, () -> w.env(e.getKey(), scalar(e.getValue(), at)));
      }
    }
    if (root.has("secretEnv")) {
      JsonNode env = object(root.get("secretEnv"), "/secretEnv");
      for (Iterator<Map.Entry<String, JsonNode>> it = env.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String at = "/secretEnv/" + e.getKey();
        Secret s = secret(e.getValue(), at);
        attemptRun(at, () -> w.secretEnv(e.getKey(), s));
      }
    }
    b.workload(attempt(hasContainer ? "/container" : "/script", w::build));
    b.accelerators(accelerators(root));
    stringArray(root, "providers").ifPresent(v -> b.providers(v));
    stringArray(root, "regions").ifPresent(v -> b.regions(v));
    stringArray(root, "zones").ifPresent(v -> b.zones(v));
    if (root.has("spot")) {
      String v = scalar(root.get("spot"), "/spot");
      b.spot(enumValue(SpotPolicy.class, v, "/spot"));
    }
    integer(root, "onDemandAfterPreemptions").ifPresent(b::onDemandAfterPreemptions);
    money(root, "maxHourlyPrice").ifPresent(b::maxHourlyPrice);
    money(root, "maxTotalCost").ifPresent(b::maxTotalCost);
    integer(root, "priority").ifPresent(b::priority);
    if (root.has("tenant")) {
      b.tenant(scalar(root.get("tenant"), "/tenant"));
    }
    if (root.has("labels")) {
      JsonNode labels = object(root.get("labels"), "/labels");
      labels.fields().forEachRemaining(e -> b.label(e.getKey(), scalar(e.getValue(), "/labels/" + e.getKey())));
    }
    integer(root, "preemptionBudget").ifPresent(b::preemptionBudget);
    duration(root, "timeout").ifPresent(b::timeout);
    duration(root, "startDeadline").ifPresent(b::startDeadline);
    if (root.has("referenceRunTime")) {
      JsonNode r = object(root.get("referenceRunTime"), "/referenceRunTime");
      checkKeys(r, "/referenceRunTime", REFERENCE_KEYS);
      if (!r.has("shape") || !r.has("runTime")) {
        throw error("/referenceRunTime", "needs both 'shape' (type, count) and 'runTime' (" + DurationText.ALLOWED + ")");
      }
      AcceleratorShape shape = shape(r.get("shape"), "/referenceRunTime/shape");
      Duration runTime = duration(r, "/referenceRunTime", "runTime").orElseThrow();
      attemptRun("/referenceRunTime", () -> b.referenceRunTime(shape, runTime));
    }
    integer(root, "hedge").ifPresent(b::hedge);
    if (root.has("checkpointLocation")) {
      b.checkpointLocation(scalar(root.get("checkpointLocation"), "/checkpointLocation"));
    }
    try {
      return b.build();
    } catch (IllegalArgumentException | NullPointerException | IllegalStateException e) {
      throw error(pointerOfMessage(e.getMessage()), e.getMessage());
    }
  }

  private AcceleratorRequest accelerators(JsonNode root) {
    if (!root.has("accelerators")) {
      throw error("", "missing field 'accelerators': a list of shapes the job may run on, e.g. [{type: cpu}] or "
          + "[{type: tpu-v5e, count: 8}, {type: nvidia-h100-80gb, count: 8}]");
    }
    JsonNode list = root.get("accelerators");
    if (!list.isArray() || list.isEmpty()) {
      throw error("/accelerators", "must be a non-empty list of shapes ({type, count}), got " + kind(list));
    }
    List<AcceleratorShape> shapes = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      shapes.add(shape(list.get(i), "/accelerators/" + i));
    }
    long min = integer(root, "minTotalMemoryGib").orElse(0);
    return attempt("/accelerators", () -> new AcceleratorRequest(shapes, min));
  }

  private AcceleratorShape shape(JsonNode node, String at) {
    JsonNode o = object(node, at);
    checkKeys(o, at, SHAPE_KEYS);
    String typeId = requiredText(o, at, "type");
    AcceleratorType type = AcceleratorType.find(typeId).orElseThrow(() -> error(at + "/type",
        "unknown accelerator type '" + typeId + "'; allowed: "
            + AcceleratorType.catalog().stream().map(AcceleratorType::id).toList()));
    int count = integer(o, at, "count").orElse(1);
    String topology = o.has("topology") ? scalar(o.get("topology"), at + "/topology") : null;
    return attempt(at, () -> new AcceleratorShape(type, count, topology));
  }

  private Secret secret(JsonNode node, String at) {
    if (!node.isObject()) {
      throw error(at, "a secret's value never goes in the job file; write {fromEnv: VARIABLE} or {fromFile: PATH}");
    }
    checkKeys(node, at, SECRET_KEYS);
    if (node.size() != 1) {
      throw error(at, "set exactly one of fromEnv or fromFile");
    }
    if (node.has("fromEnv")) {
      String var = scalar(node.get("fromEnv"), at + "/fromEnv");
      String value = environment.apply(var);
      if (value == null) {
        throw error(at + "/fromEnv", "environment variable " + var + " is not set");
      }
      return Secret.of(value);
    }
    String file = scalar(node.get("fromFile"), at + "/fromFile");
    Path p = baseDirectory == null ? Path.of(file) : baseDirectory.resolve(file);
    try {
      // One trailing newline is how editors end a file, not part of the secret.
      return Secret.of(Files.readString(p, StandardCharsets.UTF_8).replaceFirst("\r?\n$", ""));
    } catch (IOException e) {
      throw error(at + "/fromFile", "cannot read " + p + " (" + e.getClass().getSimpleName() + ")");
    }
  }

  // ---- small readers ---------------------------------------------------------------------------------

  private void checkKeys(JsonNode node, String at, List<String> allowed) {
    node.fieldNames().forEachRemaining(k -> {
      if (!allowed.contains(k)) {
        throw error(at + "/" + k, "unknown field '" + k + "'; allowed here: " + String.join(", ", allowed));
      }
    });
  }

  private JsonNode object(JsonNode node, String at) {
    if (!node.isObject()) {
      throw error(at, "must be a mapping, got " + kind(node));
    }
    return node;
  }

  private String scalar(JsonNode node, String at) {
    if (node == null || !node.isValueNode() || node.isNull()) {
      throw error(at, "must be a single value (text or number), got " + kind(node));
    }
    return node.asText();
  }

  private String requiredText(JsonNode node, String field) {
    return requiredText(node, "", field);
  }

  private String requiredText(JsonNode node, String at, String field) {
    if (!node.has(field)) {
      throw error(at, "missing field '" + field + "'");
    }
    return scalar(node.get(field), at + "/" + field);
  }

  private List<String> stringList(JsonNode node, String at) {
    if (!node.isArray()) {
      throw error(at, "must be a list of text values, got " + kind(node));
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      out.add(scalar(node.get(i), at + "/" + i));
    }
    return out;
  }

  private java.util.Optional<String[]> stringArray(JsonNode root, String field) {
    return root.has(field)
        ? java.util.Optional.of(stringList(root.get(field), "/" + field).toArray(String[]::new))
        : java.util.Optional.empty();
  }

  private java.util.Optional<Integer> integer(JsonNode node, String field) {
    return integer(node, "", field);
  }

  private java.util.Optional<Integer> integer(JsonNode node, String at, String field) {
    if (!node.has(field)) {
      return java.util.Optional.empty();
    }
    JsonNode v = node.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw error(at + "/" + field, "must be a whole number, got " + kind(v));
    }
    return java.util.Optional.of(v.intValue());
  }

  private java.util.Optional<Money> money(JsonNode node, String field) {
    if (!node.has(field)) {
      return java.util.Optional.empty();
    }
    JsonNode v = node.get(field);
    String at = "/" + field;
    try {
      BigDecimal amount = v.isNumber() ? new BigDecimal(v.asText()) : new BigDecimal(scalar(v, at).strip().replaceFirst("^\\$", ""));
      return java.util.Optional.of(new Money(amount));
    } catch (NumberFormatException e) {
      throw error(at, "must be an amount of USD such as 12.50, got " + kind(v));
    } catch (IllegalArgumentException e) {
      throw error(at, e.getMessage());
    }
  }

  private java.util.Optional<Duration> duration(JsonNode node, String field) {
    return duration(node, "", field);
  }

  private java.util.Optional<Duration> duration(JsonNode node, String at, String field) {
    if (!node.has(field)) {
      return java.util.Optional.empty();
    }
    String where = at + "/" + field;
    String text = scalar(node.get(field), where);
    try {
      return java.util.Optional.of(DurationText.parse(text));
    } catch (IllegalArgumentException e) {
      throw error(where, e.getMessage());
    }
  }

  private <E extends Enum<E>> E enumValue(Class<E> type, String value, String at) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(value)) {
        return e;
      }
    }
    List<String> allowed = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      allowed.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw error(at, "'" + value + "' is not allowed; allowed: " + String.join(", ", allowed));
  }

  /** Runs a builder call, turning its argument error into one that names the line. */
  private <T> T attempt(String at, java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (IllegalArgumentException | NullPointerException | IllegalStateException e) {
      throw error(at, e.getMessage());
    }
  }

  private void attemptRun(String at, Runnable call) {
    attempt(at, () -> {
      call.run();
      return null;
    });
  }

  /** The field a JobSpec build message starts with, as a pointer into the file. */
  private static String pointerOfMessage(String message) {
    if (message == null) {
      return "";
    }
    String first = message.split("[ :\\[.]", 2)[0];
    return switch (first) {
      case "workload" -> message.contains("script") ? "/script" : "/container";
      case "labels" -> "/labels";
      default -> TOP_KEYS.contains(first) ? "/" + first : "";
    };
  }

  private UserError error(String pointer, String message) {
    String field = pointer.isEmpty() ? "" : pointer.substring(1).replace('/', '.') + ": ";
    Integer line = lineOf(pointer);
    return UserError.invalid(source + (line == null ? "" : ":" + line) + ": " + field + message);
  }

  private Integer lineOf(String pointer) {
    String p = pointer;
    while (!p.isEmpty()) {
      Integer l = lines.get(p);
      if (l != null) {
        return l;
      }
      p = p.substring(0, p.lastIndexOf('/'));
    }
    return null;
  }

  private static String kind(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return "nothing";
    }
    if (n.isObject()) {
      return "a mapping";
    }
    if (n.isArray()) {
      return "a list";
    }
    return "'" + n.asText() + "'";
  }

  // ---- JobSpec -> YAML ----------------------------------------------------------------------------

  /**
   * The job file for {@code spec}. Secret values are not written: each secret variable is written
   * as {@code fromEnv: <its own name>}, so reading the file back in an environment that holds the
   * secrets under their names gives an equal spec.
   */
  static String write(JobSpec spec) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    root.put("name", spec.name());
    ArrayNode acc = root.putArray("accelerators");
    spec.accelerators().shapes().forEach(s -> acc.add(shapeNode(s)));
    if (spec.accelerators().minTotalMemoryGib() > 0) {
      root.put("minTotalMemoryGib", spec.accelerators().minTotalMemoryGib());
    }
    Workload w = spec.workload();
    if (w.kind() == Workload.Kind.CONTAINER) {
      ObjectNode c = root.putObject("container");
      c.put("image", w.image());
      if (!w.command().isEmpty()) {
        ArrayNode cmd = c.putArray("command");
        w.command().forEach(cmd::add);
      }
    } else {
      root.put("script", w.script());
    }
    if (!w.env().isEmpty()) {
      ObjectNode env = root.putObject("env");
      w.env().forEach(env::put);
    }
    if (!w.secretEnv().isEmpty()) {
      ObjectNode env = root.putObject("secretEnv");
      w.secretEnv().keySet().forEach(k -> env.putObject(k).put("fromEnv", k));
    }
    putList(root, "providers", spec.providers());
    putList(root, "regions", spec.regions());
    putList(root, "zones", spec.zones());
    if (spec.spot() != SpotPolicy.NEVER) {
      root.put("spot", spec.spot().name().toLowerCase(Locale.ROOT));
    }
    if (spec.onDemandAfterPreemptions() >= 0) {
      root.put("onDemandAfterPreemptions", spec.onDemandAfterPreemptions());
    }
    spec.maxHourlyPrice().ifPresent(m -> root.put("maxHourlyPrice", m.amount().toPlainString()));
    spec.maxTotalCost().ifPresent(m -> root.put("maxTotalCost", m.amount().toPlainString()));
    if (spec.priority() != 0) {
      root.put("priority", spec.priority());
    }
    if (!spec.tenant().equals("default")) {
      root.put("tenant", spec.tenant());
    }
    if (!spec.labels().isEmpty()) {
      ObjectNode labels = root.putObject("labels");
      spec.labels().forEach(labels::put);
    }
    if (spec.preemptionBudget() != 3) {
      root.put("preemptionBudget", spec.preemptionBudget());
    }
    spec.timeout().ifPresent(d -> root.put("timeout", DurationText.format(d)));
    spec.startDeadline().ifPresent(d -> root.put("startDeadline", DurationText.format(d)));
    spec.referenceRunTime().ifPresent(r -> {
      ObjectNode n = root.putObject("referenceRunTime");
      n.set("shape", shapeNode(r.shape()));
      n.put("runTime", DurationText.format(r.runTime()));
    });
    if (spec.hedge() != 1) {
      root.put("hedge", spec.hedge());
    }
    spec.checkpointLocation().ifPresent(c -> root.put("checkpointLocation", c));
    try {
      return MAPPER.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a job file", e);
    }
  }

  private static ObjectNode shapeNode(AcceleratorShape s) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("type", s.type().id());
    n.put("count", s.count());
    return n;
  }

  private static void putList(ObjectNode root, String field, Set<String> values) {
    if (!values.isEmpty()) {
      ArrayNode a = root.putArray(field);
      values.forEach(a::add);
    }
  }

  /** The JSON Schema of the job file, for editors (also in the repository's examples folder). */
  static String schema() {
    try (var in = Objects.requireNonNull(JobFile.class.getResourceAsStream(SCHEMA_RESOURCE), SCHEMA_RESOURCE)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The top-level keys in file order, for the schema test. */
  static List<String> topLevelKeys() {
    return TOP_KEYS;
  }
}
