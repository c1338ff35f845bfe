package dev.acceldispatch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.Money;
import dev.acceldispatch.Offer;
import dev.acceldispatch.spi.JobRecord;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** How jobs are shown: aligned text tables for people, JSON for scripts. Never a secret value. */
final class Render {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private Render() {}

  /** A table: a header row and rows, columns padded to their widest cell. */
  static String table(List<String> header, List<List<String>> rows) {
    int[] width = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> r : all) {
      for (int i = 0; i < r.size(); i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> r : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        line.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + width[i] + "s  ", r.get(i)));
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  static String time(Instant t) {
    return t == null ? "-" : TIME.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** Dollars with the digits a small amount needs. */
  static String money(Money m) {
    return m.toString();
  }

  static String where(Offer o) {
    return o.providerId() + "/" + o.zone() + "/" + o.machineType();
  }

  /** One job as JSON: every field a person sees in {@code status}, attempts included. */
  static ObjectNode json(JobRecord r) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("id", r.id());
    n.put("name", r.spec().name());
    n.put("tenant", r.spec().tenant());
    n.put("state", r.state().name());
    n.put("submittedAt", r.submittedAt().toString());
    n.put("updatedAt", r.updatedAt().toString());
    n.put("cost", r.cost().amount().toPlainString());
    n.put("message", r.message());
    if (r.exitCode() == null) {
      n.putNull("exitCode");
    } else {
      n.put("exitCode", r.exitCode());
    }
    ObjectNode labels = n.putObject("labels");
    r.spec().labels().forEach(labels::put);
    ObjectNode attrs = n.putObject("attributes");
    r.resultAttributes().forEach(attrs::put);
    ArrayNode attempts = n.putArray("attempts");
    for (Attempt a : r.attempts()) {
      ObjectNode x = attempts.addObject();
      x.put("number", a.number());
      x.put("provider", a.offer().providerId());
      x.put("region", a.offer().region());
      x.put("zone", a.offer().zone());
      x.put("machineType", a.offer().machineType());
      x.put("spot", a.spot());
      x.put("resourceName", a.resourceName());
      x.put("startedAt", a.startedAt().toString());
      x.put("runningAt", a.runningAt() == null ? null : a.runningAt().toString());
      x.put("endedAt", a.endedAt() == null ? null : a.endedAt().toString());
      x.put("outcome", a.outcome() == null ? null : a.outcome().name());
      x.put("cost", a.cost().amount().toPlainString());
      x.put("detail", a.detail());
    }
    return n;
  }

  static String json(Object node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The {@code status} text of a job. */
  static String status(JobRecord r) {
    StringBuilder sb = new StringBuilder();
    sb.append("id:         ").append(r.id()).append('\n');
    sb.append("name:       ").append(r.spec().name()).append('\n');
    sb.append("tenant:     ").append(r.spec().tenant()).append('\n');
    sb.append("state:      ").append(r.state()).append('\n');
    sb.append("submitted:  ").append(time(r.submittedAt())).append('\n');
    sb.append("updated:    ").append(time(r.updatedAt())).append('\n');
    sb.append("cost:       ").append(money(r.cost())).append('\n');
    if (r.exitCode() != null) {
      sb.append("exit code:  ").append(r.exitCode()).append('\n');
    }
    if (!r.message().isEmpty()) {
      sb.append("message:    ").append(r.message()).append('\n');
    }
    if (!r.spec().labels().isEmpty()) {
      sb.append("labels:     ").append(r.spec().labels()).append('\n');
    }
    if (!r.resultAttributes().isEmpty()) {
      sb.append("attributes: ").append(r.resultAttributes()).append('\n');
    }
    if (!r.attempts().isEmpty()) {
      List<List<String>> rows = new ArrayList<>();
      for (Attempt a : r.attempts()) {
        rows.add(List.of(Integer.toString(a.number()), where(a.offer()), a.spot() ? "spot" : "on-demand",
            time(a.startedAt()), a.outcome() == null ? "live" : a.outcome().name(), money(a.cost()), a.detail()));
      }
      sb.append('\n').append(table(List.of("ATTEMPT", "WHERE", "TIER", "STARTED", "OUTCOME", "COST", "DETAIL"), rows));
    }
    return sb.toString();
  }
}
