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
	created_ms           INTEGER NOT NULL,
	revoked_ms           INTEGER NOT NULL DEFAULT 0,
	active_jobs          INTEGER,
	regions_per_job      INTEGER,
	requests_per_second  REAL,
	burst                INTEGER,
	output_bytes_per_day INTEGER
);
CREATE UNIQUE INDEX subsetd_key_active_name ON subsetd_key (name) WHERE revoked_ms = 0;

-- Bytes of output files per owner and UTC day (days since 1970-01-01),
-- added as tasks finish and kept when jobs are deleted.
CREATE TABLE subsetd_usage (
	owner        TEXT NOT NULL,
	day          INTEGER NOT NULL,
	output_bytes INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (owner, day)
);

-- Jobs get their owner ('' for jobs submitted without authentication), and
-- an idempotency key is unique per owner, not across them. SQLite cannot
-- change a table's constraints: the table is built again (the procedure of
-- SQLite's "ALTER TABLE" page; foreign keys are not enforced on these
-- connections, so dropping the old table touches no region or task).
CREATE TABLE subsetd_job_new (
	id           TEXT PRIMARY KEY,        -- sorts by creation time
	owner        TEXT NOT NULL DEFAULT '', -- the name of the key that submitted it
	dataset      TEXT NOT NULL,
	status       TEXT NOT NULL,
	message      TEXT NOT NULL DEFAULT '',
	spec         TEXT NOT NULL,           -- JSON Spec
	tasks        INTEGER NOT NULL,
	idem_key     TEXT,                    -- Idempotency-Key of the submission, NULL when none
	idem_hash    TEXT NOT NULL DEFAULT '',
	created_ms   INTEGER NOT NULL,
	started_ms   INTEGER NOT NULL DEFAULT 0,
	finished_ms  INTEGER NOT NULL DEFAULT 0,
	updated_ms   INTEGER NOT NULL,
	deadline_ms  INTEGER NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL DEFAULT '',   -- the dataset's kind
	notes        TEXT NOT NULL DEFAULT '[]', -- JSON [string]: the engine's notes
	files_opened INTEGER NOT NULL DEFAULT 0,
	stats        TEXT NOT NULL DEFAULT '',   -- '', pending, assembling, done
	files        TEXT NOT NULL DEFAULT '[]', -- JSON [File]: the job's own files (statistics)
	UNIQUE (owner, idem_key)
);
INSERT INTO subsetd_job_new (id, dataset, status, message, spec, tasks, idem_key, idem_hash, created_ms, started_ms, finished_ms,
	updated_ms, deadline_ms, kind, notes, files_opened, stats, files)
SELECT id, dataset, status, message, spec, tasks, idem_key, idem_hash, created_ms, started_ms, finished_ms,
	updated_ms, deadline_ms, kind, notes, files_opened, stats, files FROM subsetd_job;
DROP TABLE subsetd_job;
ALTER TABLE subsetd_job_new RENAME TO subsetd_job;
CREATE INDEX subsetd_job_status ON subsetd_job (status, id);
CREATE INDEX subsetd_job_owner ON subsetd_job (owner, id);
