-- AccelDispatch job store, schema version 1.
-- The same SQL runs on PostgreSQL and on H2 (MODE=PostgreSQL). ${prefix} is the configured table
-- prefix. Times are kept to the microsecond. spec, attempts and result_attributes are JSON text
-- written by the library (format documented in JdbcJobStore); spec holds secret env values.
CREATE TABLE ${prefix}jobs (
  id                VARCHAR(128) NOT NULL PRIMARY KEY,
  state             VARCHAR(16)  NOT NULL,
  terminal          BOOLEAN      NOT NULL,
  version           BIGINT       NOT NULL,
  name              VARCHAR(256) NOT NULL,
  tenant            VARCHAR(64)  NOT NULL,
  priority          INTEGER      NOT NULL,
  submitted_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
  preemptions       INTEGER      NOT NULL,
  message           TEXT         NOT NULL,
  exit_code         INTEGER,
  result_attributes TEXT         NOT NULL,
  spec              TEXT         NOT NULL,
  attempts          TEXT         NOT NULL,
  lease_owner       VARCHAR(128),
  lease_until       TIMESTAMP WITH TIME ZONE,
  cancel_requested  BOOLEAN      NOT NULL DEFAULT FALSE
);

CREATE INDEX ${prefix}jobs_unfinished ON ${prefix}jobs (terminal, submitted_at, id);
CREATE INDEX ${prefix}jobs_lease_owner ON ${prefix}jobs (lease_owner);
