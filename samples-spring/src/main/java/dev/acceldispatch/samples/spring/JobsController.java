package dev.acceldispatch.samples.spring;

import dev.acceldispatch.AcceleratorRequest;
import dev.acceldispatch.AcceleratorShape;
import dev.acceldispatch.AcceleratorType;
import dev.acceldispatch.Attempt;
import dev.acceldispatch.Dispatcher;
import dev.acceldispatch.DispatchException;
import dev.acceldispatch.JobHandle;
import dev.acceldispatch.JobSpec;
import dev.acceldispatch.Shapes;
import java.net.URI;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /jobs} submits a job, {@code GET /jobs/{id}} shows it, {@code POST
 * /jobs/{id}/cancel} cancels it. The dispatcher is the starter's bean.
 */
@RestController
@RequestMapping("/jobs")
class JobsController {
  private final Dispatcher dispatcher;

  JobsController(Dispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  /**
   * What a caller asks for.
   *
   * @param name the job's name
   * @param script the shell script to run
   * @param tenant who it is for; default {@code default}
   * @param accelerators shapes it may run on, any of: {@code cpu}, {@code tpu-v5e:8}, {@code
   *     nvidia-h100-80gb:8}, …; default {@code cpu}
   */
  record SubmitRequest(String name, String script, String tenant, List<String> accelerators) {}

  /** What the service tells about a job. */
  record JobView(String id, String name, String tenant, String state, List<AttemptView> attempts, String cost) {
    static JobView of(JobHandle h) {
      return new JobView(h.id(), h.spec().name(), h.spec().tenant(), h.state().name(),
          h.attempts().stream().map(AttemptView::of).toList(), h.cost().toString());
    }
  }

  /** One attempt of a job. */
  record AttemptView(int number, String offer, boolean spot, String outcome, String cost) {
    static AttemptView of(Attempt a) {
      return new AttemptView(a.number(), a.offer().key(), a.spot(),
          a.outcome() == null ? null : a.outcome().name(), a.cost() == null ? null : a.cost().toString());
    }
  }

  /** An error answer. */
  record Problem(String error) {}

  @PostMapping
  ResponseEntity<JobView> submit(@RequestBody SubmitRequest request) {
    JobSpec.Builder spec = JobSpec.builder(request.name()).script(request.script())
        .accelerators(accelerators(request.accelerators()));
    if (request.tenant() != null) {
      spec.tenant(request.tenant());
    }
    JobHandle job = dispatcher.submit(spec.build());
    return ResponseEntity.accepted().location(URI.create("/jobs/" + job.id())).body(JobView.of(job));
  }

  @GetMapping("/{id}")
  ResponseEntity<JobView> show(@PathVariable String id) {
    return dispatcher.job(id).map(JobView::of).map(ResponseEntity::ok).orElse(ResponseEntity.notFound().build());
  }

  @PostMapping("/{id}/cancel")
  ResponseEntity<JobView> cancel(@PathVariable String id) {
    return dispatcher.job(id).map(h -> {
      h.cancel();
      return ResponseEntity.accepted().body(JobView.of(h));
    }).orElse(ResponseEntity.notFound().build());
  }

  /** Bad input and jobs no provider can run are the caller's to fix: 400 with the library's words. */
  @ExceptionHandler({IllegalArgumentException.class, NullPointerException.class, DispatchException.class})
  ResponseEntity<Problem> refused(RuntimeException e) {
    return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(new Problem(e.getMessage()));
  }

  static AcceleratorRequest accelerators(List<String> wanted) {
    if (wanted == null || wanted.isEmpty()) {
      return AcceleratorRequest.anyOf(Shapes.cpu());
    }
    return AcceleratorRequest.anyOf(wanted.stream().map(JobsController::shape).toList());
  }

  private static AcceleratorShape shape(String text) {
    if (text.equals("cpu")) {
      return Shapes.cpu();
    }
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("accelerators: '" + text + "' is not cpu or <type>:<count>, e.g. tpu-v5e:8");
    }
    String id = text.substring(0, colon);
    int count;
    try {
      count = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("accelerators: count in '" + text + "' is not a number");
    }
    if (id.equals(AcceleratorType.TPU_V5E.id())) {
      return Shapes.tpuV5e(count);
    }
    AcceleratorType type = AcceleratorType.find(id).orElseThrow(() -> new IllegalArgumentException(
        "accelerators: unknown type '" + id + "'; known: "
            + AcceleratorType.catalog().stream().map(AcceleratorType::id).toList()));
    return Shapes.gpu(type, count);
  }
}
