package dev.acceldispatch.spring.boot.autoconfigure;

import dev.acceldispatch.jdbc.JdbcJobStore;
import dev.acceldispatch.spi.JobStore;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The durable JDBC store on the application's own {@link DataSource}, unless the store type is
 * {@code memory}. Its migrations create the store's table on first start.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = {"dev.acceldispatch.jdbc.JdbcJobStore", "javax.sql.DataSource"})
@ConditionalOnBean(DataSource.class)
@ConditionalOnExpression("!'${acceldispatch.store.type:auto}'.equalsIgnoreCase('memory')")
class JdbcStoreConfiguration {

  @Bean
  @ConditionalOnMissingBean
  JobStore accelDispatchJdbcJobStore(DataSource dataSource) {
    return JdbcJobStore.create(dataSource);
  }
}
