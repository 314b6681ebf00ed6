-- API keys, what they used, and jobs that belong to one.
--
-- A key is stored by the SHA-256 of its secret (never the secret); its name
-- is the identity its jobs belong to: revoking a key and creating one of the
-- same name gives the new secret the old one's jobs. At most one key of a
-- name is active. The quota columns override the server's defaults, NULL
-- where they do not.
CREATE TABLE subsetd_key (
	hash                 TEXT PRIMARY KEY,   -- hex SHA-256 of the secret
	name                 TEXT NOT NULL,
	role                 TEXT NOT NULL,      -- user | admin
	hint                 TEXT NOT NULL,      -- the secret's first characters, to tell keys apart
	created_ms           BIGINT NOT NULL,
	revoked_ms           BIGINT NOT NULL DEFAULT 0,
	active_jobs          INTEGER,
	regions_per_job      INTEGER,
	requests_per_second  DOUBLE PRECISION,
	burst                INTEGER,
	output_bytes_per_day BIGINT
);
CREATE UNIQUE INDEX subsetd_key_active_name ON subsetd_key (name) WHERE revoked_ms = 0;

-- Bytes of output files per owner and UTC day (days since 1970-01-01),
-- added as tasks finish and kept when jobs are deleted.
CREATE TABLE subsetd_usage (
	owner        TEXT NOT NULL,
	day          INTEGER NOT NULL,
	output_bytes BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (owner, day)
);

-- Jobs get their owner ('' for jobs submitted without authentication), and
-- an idempotency key is unique per owner, not across them.
ALTER TABLE subsetd_job ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE subsetd_job DROP CONSTRAINT subsetd_job_idem_key_key;
ALTER TABLE subsetd_job ADD CONSTRAINT subsetd_job_owner_idem_key UNIQUE (owner, idem_key);
CREATE INDEX subsetd_job_owner ON subsetd_job (owner, id);
