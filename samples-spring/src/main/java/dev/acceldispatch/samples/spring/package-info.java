/** A Spring Boot service on the AccelDispatch starter: a REST endpoint that submits jobs. */
package dev.acceldispatch.samples.spring;
