package dev.acceldispatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.acceldispatch.JobPage;
import dev.acceldispatch.JobQuery;
import dev.acceldispatch.JobState;
import dev.acceldispatch.Money;
import dev.acceldispatch.spi.JobRecord;
import dev.acceldispatch.spi.JobStore;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The commands that read and steer stored jobs: {@code status}, {@code list}, {@code logs}, {@code
 * cancel}, {@code cost}. They read the store directly and start no dispatcher, so they never take
 * a job from the dispatchers that run it.
 */
final class QueryCommands {
  private QueryCommands() {}

  /** Output format of the listing commands. */
  enum Output { TABLE, JSON }

  static JobRecord find(JobStore store, String id) {
    return store.find(id).orElseThrow(() -> new UserError(ExitCodes.NOT_FOUND, "no job " + id + " in the store"));
  }

  /** A command about one job: the tool's context, the common options and the job id. */
  abstract static class WithJobId {
    final Cli cli;
    @Mixin CommonOptions common;
    @Parameters(paramLabel = "ID", description = "The job id.") String id;

    WithJobId(Cli cli) {
      this.cli = cli;
    }
  }

  /** An instant, or a duration back from now ({@code 2h} means two hours ago). */
  static Instant since(String text, Instant now) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException notAnInstant) {
      try {
        return now.minus(DurationText.parse(text));
      } catch (IllegalArgumentException e) {
        throw UserError.invalid("--since: '" + text + "' is neither an instant (2026-03-01T12:00:00Z) nor " + DurationText.ALLOWED);
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows a job: state, cost, message, exit code and every attempt.")
  static final class Status extends WithJobId implements Callable<Integer> {
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "table (default) or json.") Output output = Output.TABLE;

    Status(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() {
      try (CliConfig.OpenStore os = common.load(cli).openStore()) {
        JobRecord r = find(os.store(), id);
        cli.out().print(output == Output.JSON ? Render.json(Render.json(r)) + "\n" : Render.status(r));
        cli.out().flush();
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists jobs, newest first, with filters.")
  static final class ListJobs implements Callable<Integer> {
    private final Cli cli;
    @Mixin CommonOptions common;
    @Option(names = "--state", paramLabel = "STATE", split = ",",
        description = "Only jobs in these states: ${COMPLETION-CANDIDATES} (repeat or separate with commas).")
    List<JobState> states = new ArrayList<>();
    @Option(names = "--tenant", description = "Only this tenant's jobs.") String tenant;
    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only jobs with this label (repeatable; all must match).")
    Map<String, String> labels = new TreeMap<>();
    @Option(names = "--since", paramLabel = "WHEN", description = "Only jobs submitted since: an instant (2026-03-01T12:00:00Z) or a duration ago (2h, 7d).")
    String since;
    @Option(names = "--limit", description = "At most this many jobs (default ${DEFAULT-VALUE}).", defaultValue = "50") int limit;
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "table (default) or json.") Output output = Output.TABLE;

    ListJobs(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      JobQuery.Builder q = JobQuery.builder().states(states.toArray(JobState[]::new)).tenant(tenant);
      labels.forEach(q::label);
      if (since != null) {
        q.submittedFrom(since(since, cli.clock().instant()));
      }
      if (limit < 1 || limit > JobQuery.MAX_LIMIT) {
        throw UserError.invalid("--limit must be between 1 and " + JobQuery.MAX_LIMIT + ", got " + limit);
      }
      q.limit(limit);
      try (CliConfig.OpenStore os = common.load(cli).openStore()) {
        JobQuery query = q.build();
        JobPage page = JobPage.of(query, os.store().query(query));
        if (output == Output.JSON) {
          ArrayNode a = JsonNodeFactory.instance.arrayNode();
          page.jobs().forEach(r -> a.add(Render.json(r)));
          cli.out().println(Render.json(a));
        } else {
          List<List<String>> rows = new ArrayList<>();
          for (JobRecord r : page.jobs()) {
            rows.add(List.of(r.id(), r.spec().name(), r.spec().tenant(), r.state().name(), Render.time(r.submittedAt()),
                Integer.toString(r.attempts().size()), Render.money(r.cost())));
          }
          cli.out().print(Render.table(List.of("ID", "NAME", "TENANT", "STATE", "SUBMITTED", "ATTEMPTS", "COST"), rows));
          if (page.next() != null) {
            cli.err().println("(more jobs: raise --limit or narrow --since)");
          }
        }
        cli.out().flush();
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "logs", mixinStandardHelpOptions = true,
      description = {"Prints a job's workload output (standard output here, standard error on standard error), read through its provider.",
          "Without --attempt, the latest attempt; with --follow, keeps printing until the job ends."})
  static final class Logs extends WithJobId implements Callable<Integer> {
    @Option(names = "--attempt", paramLabel = "N", description = "This attempt (from 1) instead of the latest.") Integer attempt;
    @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the job ends.") boolean follow;

    Logs(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() throws InterruptedException {
      CliConfig cfg = common.load(cli);
      try (CliConfig.OpenStore os = cfg.openStore()) {
        find(os.store(), id);
        new LogFollower(os.store(), JobCommands.byId(cfg.providers()), cli.out(), cli.err(), Duration.ofMillis(250)).print(id, attempt, follow);
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Asks the dispatcher running a job to cancel it (through the store). Returns at once unless --wait.")
  static final class Cancel extends WithJobId implements Callable<Integer> {
    @Option(names = "--wait", paramLabel = "DURATION", description = "Wait up to this long (e.g. 60s) until the job has ended.") String wait;

    Cancel(Cli cli) {
      super(cli);
    }

    @Override
    public Integer call() throws InterruptedException {
      Duration waitFor = wait == null ? Duration.ZERO : parseWait(wait);
      try (CliConfig.OpenStore os = common.load(cli).openStore()) {
        JobRecord r = find(os.store(), id);
        if (r.state().isTerminal()) {
          cli.err().println("job " + id + " already ended: " + r.state());
          return ExitCodes.OK;
        }
        os.store().requestCancel(id);
        cli.err().println("cancel requested for " + id);
        Instant until = cli.clock().instant().plus(waitFor);
        while (!r.state().isTerminal() && cli.clock().instant().isBefore(until)) {
          Thread.sleep(200);
          r = find(os.store(), id);
        }
        if (!waitFor.isZero()) {
          cli.err().println("job " + id + " is " + r.state());
          if (!r.state().isTerminal()) {
            return ExitCodes.UNAVAILABLE;
          }
        }
        return ExitCodes.OK;
      }
    }

    private static Duration parseWait(String text) {
      try {
        return DurationText.parse(text);
      } catch (IllegalArgumentException e) {
        throw UserError.invalid("--wait: " + e.getMessage());
      }
    }
  }

  @Command(name = "cost", mixinStandardHelpOptions = true,
      description = "What jobs submitted in a period cost, per tenant and per job (every attempt, as accounted by the dispatcher).")
  static final class Cost implements Callable<Integer> {
    private final Cli cli;
    @Mixin CommonOptions common;
    @Option(names = "--since", paramLabel = "WHEN", defaultValue = "30d",
        description = "Period start: an instant or a duration ago (default ${DEFAULT-VALUE}).") String since;
    @Option(names = "--until", paramLabel = "WHEN", description = "Period end (exclusive): an instant or a duration ago; default now.") String until;
    @Option(names = "--tenant", description = "Only this tenant.") String tenant;
    @Option(names = "--jobs", description = "Also list every job with its cost.") boolean jobs;
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "table (default) or json.") Output output = Output.TABLE;

    Cost(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      Instant now = cli.clock().instant();
      JobQuery.Builder q = JobQuery.builder().tenant(tenant).submittedFrom(since(since, now)).limit(JobQuery.MAX_LIMIT);
      if (until != null) {
        q.submittedBefore(since(until, now));
      }
      Map<String, Money> perTenant = new TreeMap<>();
      Map<String, Integer> counts = new TreeMap<>();
      List<JobRecord> all = new ArrayList<>();
      try (CliConfig.OpenStore os = common.load(cli).openStore()) {
        JobQuery query;
        try {
          query = q.build();
        } catch (IllegalArgumentException e) {
          throw UserError.invalid("--since/--until: " + e.getMessage());
        }
        while (query != null) {
          JobPage page = JobPage.of(query, os.store().query(query));
          for (JobRecord r : page.jobs()) {
            perTenant.merge(r.spec().tenant(), r.cost(), Money::plus);
            counts.merge(r.spec().tenant(), 1, Integer::sum);
            all.add(r);
          }
          query = page.next();
        }
      }
      if (output == Output.JSON) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ObjectNode t = n.putObject("tenants");
        perTenant.forEach((k, v) -> t.putObject(k).put("jobs", counts.get(k)).put("cost", v.amount().toPlainString()));
        ArrayNode a = n.putArray("jobs");
        all.forEach(r -> a.addObject().put("id", r.id()).put("name", r.spec().name()).put("tenant", r.spec().tenant())
            .put("state", r.state().name()).put("cost", r.cost().amount().toPlainString()));
        cli.out().println(Render.json(n));
      } else {
        List<List<String>> rows = new ArrayList<>();
        Money total = Money.ZERO;
        for (var e : perTenant.entrySet()) {
          rows.add(List.of(e.getKey(), Integer.toString(counts.get(e.getKey())), Render.money(e.getValue())));
          total = total.plus(e.getValue());
        }
        rows.add(List.of("total", Integer.toString(all.size()), Render.money(total)));
        cli.out().print(Render.table(List.of("TENANT", "JOBS", "COST"), rows));
        if (jobs) {
          List<List<String>> jr = new ArrayList<>();
          all.forEach(r -> jr.add(List.of(r.id(), r.spec().name(), r.spec().tenant(), r.state().name(), Render.money(r.cost()))));
          cli.out().println();
          cli.out().print(Render.table(List.of("ID", "NAME", "TENANT", "STATE", "COST"), jr));
        }
      }
      cli.out().flush();
      return ExitCodes.OK;
    }
  }
}
