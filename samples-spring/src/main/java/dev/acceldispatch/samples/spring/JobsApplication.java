package dev.acceldispatch.samples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot service that submits jobs from a REST endpoint. The starter builds its dispatcher
 * from {@code application.yaml} alone (the local provider here); Actuator shows its health and
 * metrics. Run it with {@code ./mvnw -B -ntp -q -pl samples-spring -am verify -DskipTests -Pserve}.
 */
@SpringBootApplication
public class JobsApplication {
  /** Starts the service. */
  public static void main(String[] args) {
    SpringApplication.run(JobsApplication.class, args);
  }
}
