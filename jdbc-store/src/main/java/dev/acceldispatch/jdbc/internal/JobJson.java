package dev.acceldispatch.jdbc.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.acceldispatch.AcceleratorFamily;
import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.AttemptOutcome;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.Secret;
import dev.acceldispatch.SecretUnavailableException;
import dev.acceldispatch.SpotPolicy;
import dev.acceldispatch.Workload;
import dev.acceldispatch.spi.ProvisionedResource;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of a job's spec, attempts and result attributes, as the store keeps them. Written
 * by hand (a Jackson tree, no reflection) so that the format is stated here and stays stable.
 *
 * <p>Secret variables ({@code spec.workload.secretEnv}, format 2) are objects: a reference as
 * {@code {"kind": "DISPATCHER_ENV", "reference": "HF_TOKEN"}}; a literal value sealed as {@code
 * {"kind": "LITERAL", "keyId": "k1", "aesGcm": base64(nonce || ciphertext || tag)}}, or, only when
 * the host opted in, {@code {"kind": "LITERAL", "clear": value}}. Format 1 (earlier releases) kept
 * every value as a plain string; it is still read, and re-encrypted by the store's rotation.
 *
 * <p>Reading fails with {@link CorruptJsonException} naming the JSON path and what is wrong, never
 * quoting the document. A sealed value that cannot be opened (its key is not in the ring, or is
 * the wrong key) is not a corrupt row: it is read as {@link Secret#unavailable}, which keeps the
 * sealed form so that an update writes it back unchanged, and fails the job only if it is launched.
 */
public final class JobJson {
  /** The format of the spec document; bumped (with a migration) when it changes incompatibly. */
  public static final int SPEC_FORMAT = 2;
  /** The earlier format, read still: secret values as plain strings. */
  static final int SPEC_FORMAT_CLEAR_SECRETS = 1;

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private JobJson() {}

  /** A document that cannot be read back, with the path of the offending field. */
  public static final class CorruptJsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptJsonException(String message) {
      super(message);
    }
  }

  // ---- writing ------------------------------------------------------------------------------------

  /**
   * The spec of job {@code jobId}: references as they are, literal secret values sealed by {@code
   * secrets} (the job needs them after a restart), or in clear when the host opted in.
   *
   * @throws RuntimeException {@link SecretCodec#refusal} when there are literal values and neither
   *     a key nor the opt-in
   */
  public static String writeSpec(JobSpec s, String jobId, SecretCodec secrets) {
    ObjectNode n = F.objectNode();
    n.put("format", SPEC_FORMAT);
    n.put("name", s.name());
    n.set("workload", workload(s.workload(), jobId, secrets));
    ObjectNode acc = n.putObject("accelerators");
    ArrayNode shapes = acc.putArray("shapes");
    s.accelerators().shapes().forEach(sh -> shapes.add(shape(sh)));
    acc.put("minTotalMemoryGib", s.accelerators().minTotalMemoryGib());
    strings(n.putArray("providers"), s.providers());
    strings(n.putArray("regions"), s.regions());
    strings(n.putArray("zones"), s.zones());
    n.put("spot", s.spot().name());
    n.put("onDemandAfterPreemptions", s.onDemandAfterPreemptions());
    s.maxHourlyPrice().ifPresent(m -> n.put("maxHourlyPrice", m.amount().toPlainString()));
    s.maxTotalCost().ifPresent(m -> n.put("maxTotalCost", m.amount().toPlainString()));
    n.put("priority", s.priority());
    n.put("tenant", s.tenant());
    map(n.putObject("labels"), s.labels());
    n.put("preemptionBudget", s.preemptionBudget());
    s.timeout().ifPresent(d -> n.put("timeout", d.toString()));
    s.startDeadline().ifPresent(d -> n.put("startDeadline", d.toString()));
    s.referenceRunTime().ifPresent(r -> {
      ObjectNode rr = n.putObject("referenceRunTime");
      rr.set("shape", shape(r.shape()));
      rr.put("runTime", r.runTime().toString());
    });
    n.put("hedge", s.hedge());
    s.checkpointLocation().ifPresent(c -> n.put("checkpointLocation", c));
    return n.toString();
  }

  /** The attempts, in order. */
  public static String writeAttempts(List<Attempt> attempts) {
    ArrayNode arr = F.arrayNode();
    for (Attempt a : attempts) {
      ObjectNode n = arr.addObject();
      n.put("number", a.number());
      n.set("offer", offer(a.offer()));
      n.put("spot", a.spot());
      n.put("resourceName", a.resourceName());
      if (a.resource() != null) {
        ObjectNode r = n.putObject("resource");
        r.put("providerId", a.resource().providerId());
        r.put("name", a.resource().name());
        r.put("zone", a.resource().zone());
        map(r.putObject("attributes"), a.resource().attributes());
      }
      n.put("startedAt", a.startedAt().toString());
      if (a.runningAt() != null) {
        n.put("runningAt", a.runningAt().toString());
      }
      if (a.endedAt() != null) {
        n.put("endedAt", a.endedAt().toString());
      }
      if (a.outcome() != null) {
        n.put("outcome", a.outcome().name());
      }
      n.put("cost", a.cost().amount().toPlainString());
      n.put("detail", a.detail());
    }
    return arr.toString();
  }

  /** A string map (result attributes). */
  public static String writeMap(Map<String, String> m) {
    ObjectNode n = F.objectNode();
    map(n, m);
    return n.toString();
  }

  /** The names of the variables holding literal values, which need a key or the clear opt-in. */
  public static List<String> literalSecretNames(Workload w) {
    List<String> out = new ArrayList<>();
    w.secretEnv().forEach((k, v) -> {
      if (v.kind() == Secret.Kind.LITERAL) {
        out.add(k);
      }
    });
    return out;
  }

  private static ObjectNode workload(Workload w, String jobId, SecretCodec secrets) {
    ObjectNode n = F.objectNode();
    n.put("kind", w.kind().name());
    if (w.kind() == Workload.Kind.CONTAINER) {
      n.put("image", w.image());
      strings(n.putArray("command"), w.command());
    } else {
      n.put("script", w.script());
    }
    map(n.putObject("env"), w.env());
    List<String> literals = literalSecretNames(w);
    if (!literals.isEmpty() && !secrets.canSeal() && !secrets.clearAllowed()) {
      throw secrets.refusal(jobId, literals);
    }
    ObjectNode out = n.putObject("secretEnv");
    w.secretEnv().forEach((k, v) -> out.set(k, secret(jobId, k, v, secrets)));
    return n;
  }

  private static JsonNode secret(String jobId, String name, Secret v, SecretCodec secrets) {
    if (v.kind() == Secret.Kind.UNAVAILABLE) {
      // What was read and could not be opened goes back as it was, for a restart with the right key.
      try {
        return MAPPER.readTree(v.storedForm());
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("the stored form of workload.secretEnv[" + name + "] of job " + jobId + " is not JSON");
      }
    }
    ObjectNode n = F.objectNode();
    n.put("kind", v.kind().name());
    if (v.isReference()) {
      n.put("reference", v.reference());
    } else if (secrets.canSeal()) {
      n.put("keyId", secrets.currentKeyId());
      n.put("aesGcm", secrets.seal(jobId, name, v.reveal()));
    } else {
      n.put("clear", v.reveal());
    }
    return n;
  }

  /**
   * The spec document with every literal value sealed with the current key (values sealed with an
   * older key, or kept in clear, are re-sealed), or null when nothing needed it or a value cannot
   * be opened (then {@code unreadable} receives the reason, and the document is left alone).
   */
  public static String resealSpec(String json, String jobId, SecretCodec secrets, java.util.function.Consumer<String> unreadable) {
    JsonNode n = parse(json, "spec");
    int format = integer(n, "format", "spec");
    JsonNode env = object(object(n, "workload", "spec"), "secretEnv", "spec.workload");
    boolean changed = format != SPEC_FORMAT;
    ObjectNode out = F.objectNode();
    Iterator<Map.Entry<String, JsonNode>> it = env.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      Secret s = readSecret(e.getValue(), format, jobId, name, secrets, "spec.workload.secretEnv[" + name + "]");
      if (s.kind() == Secret.Kind.UNAVAILABLE) {
        unreadable.accept(reasonOf(s));
        return null;
      }
      JsonNode stored = e.getValue();
      boolean current = stored.isObject() && secrets.currentKeyId().equals(stored.path("keyId").asText(null));
      if (s.kind() == Secret.Kind.LITERAL && !current) {
        changed = true;
      }
      out.set(name, s.kind() == Secret.Kind.LITERAL && current ? stored : secret(jobId, name, s, secrets));
    }
    if (!changed) {
      return null;
    }
    ObjectNode copy = ((ObjectNode) n).deepCopy();
    copy.put("format", SPEC_FORMAT);
    ((ObjectNode) copy.get("workload")).set("secretEnv", out);
    return copy.toString();
  }

  /**
   * Whether the spec document keeps a literal value in clear: format 1 (earlier releases) with a
   * secret variable, or a value stored under the clear opt-in. Null-safe on damaged documents
   * (false), which the read path reports on its own.
   */
  public static boolean hasClearValues(String json) {
    try {
      JsonNode env = MAPPER.readTree(json).path("workload").path("secretEnv");
      Iterator<JsonNode> it = env.elements();
      while (it.hasNext()) {
        JsonNode v = it.next();
        if (v.isTextual() || v.has("clear")) {
          return true;
        }
      }
      return false;
    } catch (JsonProcessingException | RuntimeException e) {
      return false;
    }
  }

  private static String reasonOf(Secret unavailable) {
    try {
      unavailable.reveal();
      throw new IllegalStateException("an unavailable secret revealed a value");
    } catch (SecretUnavailableException e) {
      return e.getMessage();
    }
  }

  private static ObjectNode shape(AcceleratorShape s) {
    ObjectNode n = F.objectNode();
    ObjectNode t = n.putObject("type");
    t.put("id", s.type().id());
    t.put("family", s.type().family().name());
    t.put("vendor", s.type().vendor());
    t.put("memoryGib", s.type().memoryGib());
    t.put("peakBf16Tflops", s.type().peakBf16Tflops());
    n.put("count", s.count());
    if (s.topology() != null) {
      n.put("topology", s.topology());
    }
    return n;
  }

  private static ObjectNode offer(Offer o) {
    ObjectNode n = F.objectNode();
    n.put("providerId", o.providerId());
    n.put("region", o.region());
    n.put("zone", o.zone());
    n.set("shape", shape(o.shape()));
    n.put("machineType", o.machineType());
    n.put("onDemandHourly", o.onDemandHourly().amount().toPlainString());
    if (o.spotHourly() != null) {
      n.put("spotHourly", o.spotHourly().amount().toPlainString());
    }
    n.put("capacity", o.capacity());
    return n;
  }

  private static void strings(ArrayNode arr, Iterable<String> values) {
    values.forEach(arr::add);
  }

  private static void map(ObjectNode n, Map<String, String> m) {
    m.forEach(n::put);
  }

  // ---- reading ------------------------------------------------------------------------------------

  /**
   * Reads a spec written by {@link #writeSpec} for job {@code jobId}, opening sealed values with
   * {@code secrets}; one that cannot be opened is read as {@link Secret#unavailable}.
   */
  public static JobSpec readSpec(String json, String jobId, SecretCodec secrets) {
    JsonNode n = parse(json, "spec");
    int format = integer(n, "format", "spec");
    if (format != SPEC_FORMAT && format != SPEC_FORMAT_CLEAR_SECRETS) {
      throw new CorruptJsonException("spec.format is " + format + ", this library reads formats "
          + SPEC_FORMAT_CLEAR_SECRETS + " and " + SPEC_FORMAT);
    }
    JobSpec.Builder b = JobSpec.builder(text(n, "name", "spec"));
    b.workload(readWorkload(object(n, "workload", "spec"), "spec.workload", format, jobId, secrets));
    JsonNode acc = object(n, "accelerators", "spec");
    List<AcceleratorShape> shapes = new ArrayList<>();
    int i = 0;
    for (JsonNode sh : array(acc, "shapes", "spec.accelerators")) {
      shapes.add(readShape(sh, "spec.accelerators.shapes[" + i++ + "]"));
    }
    b.accelerators(new AcceleratorRequest(shapes, longValue(acc, "minTotalMemoryGib", "spec.accelerators")));
    b.providers(stringList(n, "providers", "spec").toArray(String[]::new));
    b.regions(stringList(n, "regions", "spec").toArray(String[]::new));
    b.zones(stringList(n, "zones", "spec").toArray(String[]::new));
    b.spot(enumValue(SpotPolicy.class, n, "spot", "spec"));
    b.onDemandAfterPreemptions(integer(n, "onDemandAfterPreemptions", "spec"));
    if (n.has("maxHourlyPrice")) {
      b.maxHourlyPrice(money(n, "maxHourlyPrice", "spec"));
    }
    if (n.has("maxTotalCost")) {
      b.maxTotalCost(money(n, "maxTotalCost", "spec"));
    }
    b.priority(integer(n, "priority", "spec"));
    b.tenant(text(n, "tenant", "spec"));
    stringMap(n, "labels", "spec").forEach(b::label);
    b.preemptionBudget(integer(n, "preemptionBudget", "spec"));
    if (n.has("timeout")) {
      b.timeout(duration(n, "timeout", "spec"));
    }
    if (n.has("startDeadline")) {
      b.startDeadline(duration(n, "startDeadline", "spec"));
    }
    if (n.has("referenceRunTime")) {
      JsonNode rr = object(n, "referenceRunTime", "spec");
      b.referenceRunTime(
          readShape(object(rr, "shape", "spec.referenceRunTime"), "spec.referenceRunTime.shape"),
          duration(rr, "runTime", "spec.referenceRunTime"));
    }
    b.hedge(integer(n, "hedge", "spec"));
    if (n.has("checkpointLocation")) {
      b.checkpointLocation(text(n, "checkpointLocation", "spec"));
    }
    try {
      return b.build();
    } catch (IllegalArgumentException | NullPointerException e) {
      // Core's validation messages name fields and never secret values.
      throw new CorruptJsonException("spec does not validate: " + e.getMessage());
    }
  }

  /** Reads attempts written by {@link #writeAttempts}. */
  public static List<Attempt> readAttempts(String json) {
    JsonNode arr = parse(json, "attempts");
    if (!arr.isArray()) {
      throw new CorruptJsonException("attempts: expected an array");
    }
    List<Attempt> out = new ArrayList<>();
    int i = 0;
    for (JsonNode n : arr) {
      String p = "attempts[" + i++ + "]";
      ProvisionedResource res = null;
      if (n.hasNonNull("resource")) {
        JsonNode r = object(n, "resource", p);
        res = new ProvisionedResource(
            text(r, "providerId", p + ".resource"), text(r, "name", p + ".resource"),
            text(r, "zone", p + ".resource"), stringMap(r, "attributes", p + ".resource"));
      }
      try {
        out.add(new Attempt(
            integer(n, "number", p),
            readOffer(object(n, "offer", p), p + ".offer"),
            bool(n, "spot", p),
            text(n, "resourceName", p),
            res,
            instant(n, "startedAt", p),
            n.hasNonNull("runningAt") ? instant(n, "runningAt", p) : null,
            n.hasNonNull("endedAt") ? instant(n, "endedAt", p) : null,
            n.hasNonNull("outcome") ? enumValue(AttemptOutcome.class, n, "outcome", p) : null,
            money(n, "cost", p),
            n.hasNonNull("detail") ? text(n, "detail", p) : ""));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new CorruptJsonException(p + " does not validate: " + e.getMessage());
      }
    }
    return out;
  }

  /** Reads a string map written by {@link #writeMap}. */
  public static Map<String, String> readMap(String json, String what) {
    JsonNode n = parse(json, what);
    if (!n.isObject()) {
      throw new CorruptJsonException(what + ": expected an object");
    }
    return toStringMap(n, what);
  }

  private static Workload readWorkload(JsonNode n, String p, int format, String jobId, SecretCodec secrets) {
    Workload.Kind kind = enumValue(Workload.Kind.class, n, "kind", p);
    Workload.Builder b;
    if (kind == Workload.Kind.CONTAINER) {
      b = Workload.container(text(n, "image", p), stringList(n, "command", p).toArray(String[]::new));
    } else {
      b = Workload.script(text(n, "script", p));
    }
    Map<String, String> reserved = new LinkedHashMap<>();
    try {
      stringMap(n, "env", p).forEach((k, v) -> {
        if (k.startsWith(Workload.RESERVED_ENV_PREFIX)) {
          reserved.put(k, v);
        } else {
          b.env(k, v);
        }
      });
      Iterator<Map.Entry<String, JsonNode>> it = object(n, "secretEnv", p).fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        b.secretEnv(e.getKey(), readSecret(e.getValue(), format, jobId, e.getKey(), secrets, p + ".secretEnv[" + e.getKey() + "]"));
      }
      Workload w = b.build();
      return reserved.isEmpty() ? w : w.withEngineEnv(reserved);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new CorruptJsonException(p + " does not validate: " + e.getMessage());
    }
  }

  private static Secret readSecret(JsonNode v, int format, String jobId, String name, SecretCodec secrets, String p) {
    if (format == SPEC_FORMAT_CLEAR_SECRETS) {
      if (!v.isTextual()) {
        throw new CorruptJsonException(p + ": expected a string");
      }
      return Secret.of(v.textValue());
    }
    if (!v.isObject()) {
      throw new CorruptJsonException(p + ": expected an object");
    }
    Secret.Kind kind = enumValue(Secret.Kind.class, v, "kind", p);
    try {
      switch (kind) {
        case DISPATCHER_ENV:
          return Secret.fromDispatcherEnv(text(v, "reference", p));
        case DISPATCHER_FILE:
          return Secret.fromDispatcherFile(java.nio.file.Path.of(text(v, "reference", p)));
        case GOOGLE_SECRET_MANAGER:
          return Secret.googleSecretManager(text(v, "reference", p));
        case AZURE_KEY_VAULT:
          return Secret.azureKeyVault(text(v, "reference", p));
        case LITERAL:
          break;
        default:
          throw new CorruptJsonException(p + ".kind: " + kind + " is never stored");
      }
    } catch (IllegalArgumentException e) {
      // A reference is no secret: the message may name it.
      throw new CorruptJsonException(p + " does not validate: " + e.getMessage());
    }
    if (v.has("clear")) {
      return Secret.of(text(v, "clear", p));
    }
    String keyId = text(v, "keyId", p);
    String data = text(v, "aesGcm", p);
    try {
      return Secret.of(secrets.open(jobId, name, keyId, data));
    } catch (SecretUnavailableException e) {
      return Secret.unavailable(e.getMessage(), v.toString());
    }
  }

  private static AcceleratorShape readShape(JsonNode n, String p) {
    JsonNode t = object(n, "type", p);
    try {
      AcceleratorType type = new AcceleratorType(
          text(t, "id", p + ".type"),
          enumValue(AcceleratorFamily.class, t, "family", p + ".type"),
          text(t, "vendor", p + ".type"),
          integer(t, "memoryGib", p + ".type"),
          number(t, "peakBf16Tflops", p + ".type"));
      return new AcceleratorShape(type, integer(n, "count", p), n.hasNonNull("topology") ? text(n, "topology", p) : null);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new CorruptJsonException(p + " does not validate: " + e.getMessage());
    }
  }

  private static Offer readOffer(JsonNode n, String p) {
    try {
      return new Offer(
          text(n, "providerId", p), text(n, "region", p), text(n, "zone", p),
          readShape(object(n, "shape", p), p + ".shape"), text(n, "machineType", p),
          money(n, "onDemandHourly", p),
          n.hasNonNull("spotHourly") ? money(n, "spotHourly", p) : null,
          integer(n, "capacity", p));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new CorruptJsonException(p + " does not validate: " + e.getMessage());
    }
  }

  private static JsonNode parse(String json, String what) {
    if (json == null) {
      throw new CorruptJsonException(what + ": missing (NULL)");
    }
    try {
      JsonNode n = MAPPER.readTree(json);
      if (n == null || n.isMissingNode()) {
        throw new CorruptJsonException(what + ": empty");
      }
      return n;
    } catch (JsonProcessingException e) {
      // Jackson's message may quote the document, and the spec holds secrets: give the place only.
      JsonLocation loc = e.getLocation();
      throw new CorruptJsonException(what + ": malformed JSON"
          + (loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr()));
    }
  }

  private static JsonNode field(JsonNode n, String name, String p) {
    JsonNode v = n.get(name);
    if (v == null || v.isNull()) {
      throw new CorruptJsonException(p + "." + name + ": missing");
    }
    return v;
  }

  private static JsonNode object(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isObject()) {
      throw new CorruptJsonException(p + "." + name + ": expected an object");
    }
    return v;
  }

  private static JsonNode array(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isArray()) {
      throw new CorruptJsonException(p + "." + name + ": expected an array");
    }
    return v;
  }

  private static String text(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isTextual()) {
      throw new CorruptJsonException(p + "." + name + ": expected a string");
    }
    return v.textValue();
  }

  private static int integer(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isInt()) {
      throw new CorruptJsonException(p + "." + name + ": expected an integer");
    }
    return v.intValue();
  }

  private static long longValue(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new CorruptJsonException(p + "." + name + ": expected an integer");
    }
    return v.longValue();
  }

  private static double number(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isNumber()) {
      throw new CorruptJsonException(p + "." + name + ": expected a number");
    }
    return v.doubleValue();
  }

  private static boolean bool(JsonNode n, String name, String p) {
    JsonNode v = field(n, name, p);
    if (!v.isBoolean()) {
      throw new CorruptJsonException(p + "." + name + ": expected true or false");
    }
    return v.booleanValue();
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, JsonNode n, String name, String p) {
    String s = text(n, name, p);
    try {
      return Enum.valueOf(type, s);
    } catch (IllegalArgumentException e) {
      throw new CorruptJsonException(p + "." + name + ": unknown " + type.getSimpleName() + " '" + s + "'");
    }
  }

  private static Money money(JsonNode n, String name, String p) {
    String s = text(n, name, p);
    try {
      return new Money(new BigDecimal(s));
    } catch (IllegalArgumentException e) {
      throw new CorruptJsonException(p + "." + name + ": not an amount of USD");
    }
  }

  private static Duration duration(JsonNode n, String name, String p) {
    String s = text(n, name, p);
    try {
      return Duration.parse(s);
    } catch (RuntimeException e) {
      throw new CorruptJsonException(p + "." + name + ": not an ISO-8601 duration");
    }
  }

  private static Instant instant(JsonNode n, String name, String p) {
    String s = text(n, name, p);
    try {
      return Instant.parse(s);
    } catch (RuntimeException e) {
      throw new CorruptJsonException(p + "." + name + ": not an ISO-8601 instant");
    }
  }

  private static List<String> stringList(JsonNode n, String name, String p) {
    List<String> out = new ArrayList<>();
    int i = 0;
    for (JsonNode v : array(n, name, p)) {
      if (!v.isTextual()) {
        throw new CorruptJsonException(p + "." + name + "[" + i + "]: expected a string");
      }
      out.add(v.textValue());
      i++;
    }
    return out;
  }

  private static Map<String, String> stringMap(JsonNode n, String name, String p) {
    return toStringMap(object(n, name, p), p + "." + name);
  }

  private static Map<String, String> toStringMap(JsonNode obj, String p) {
    Map<String, String> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new CorruptJsonException(p + "[" + e.getKey() + "]: expected a string");
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
    return out;
  }
}
