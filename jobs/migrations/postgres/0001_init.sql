-- Jobs, their regions and their tasks, beside River's tables so that a job
-- and the queue entries of its tasks are written in one transaction. Times
-- are Unix milliseconds (0: not yet); JSON is stored as text (the same
-- documents as on SQLite).

CREATE TABLE subsetd_job (
	id           TEXT PRIMARY KEY,        -- sorts by creation time
	dataset      TEXT NOT NULL,
	status       TEXT NOT NULL,
	message      TEXT NOT NULL DEFAULT '',
	spec         TEXT NOT NULL,           -- JSON Spec
	tasks        INTEGER NOT NULL,
	idem_key     TEXT UNIQUE,             -- Idempotency-Key of the submission, NULL when none
	idem_hash    TEXT NOT NULL DEFAULT '',
	created_ms   BIGINT NOT NULL,
	started_ms   BIGINT NOT NULL DEFAULT 0,
	finished_ms  BIGINT NOT NULL DEFAULT 0,
	updated_ms   BIGINT NOT NULL,
	deadline_ms  BIGINT NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL DEFAULT '',   -- the dataset's kind
	notes        TEXT NOT NULL DEFAULT '[]', -- JSON [string]: the engine's notes
	files_opened INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subsetd_job_status ON subsetd_job (status, id);

CREATE TABLE subsetd_region (
	job_id  TEXT NOT NULL REFERENCES subsetd_job (id) ON DELETE CASCADE,
	idx     INTEGER NOT NULL,             -- the region's index in the request
	name    TEXT NOT NULL,
	task_id INTEGER NOT NULL,             -- -1: decided at submission
	status  TEXT NOT NULL,
	message TEXT NOT NULL DEFAULT '',
	files   TEXT NOT NULL DEFAULT '[]',   -- JSON [File]
	PRIMARY KEY (job_id, idx)
);

CREATE TABLE subsetd_task (
	job_id       TEXT NOT NULL REFERENCES subsetd_job (id) ON DELETE CASCADE,
	task_id      INTEGER NOT NULL,
	status       TEXT NOT NULL,
	regions      TEXT NOT NULL,           -- JSON [int]: region indexes
	attempts     INTEGER NOT NULL DEFAULT 0,
	river_id     BIGINT NOT NULL DEFAULT 0,
	message      TEXT NOT NULL DEFAULT '',
	files        TEXT NOT NULL DEFAULT '[]',   -- JSON [string]: input files, [] for all the dataset's
	region_files TEXT NOT NULL DEFAULT 'null', -- JSON [[int]]: the files of each region, null for all
	concat       INTEGER NOT NULL DEFAULT 0,   -- 1: concatenate the files along time
	PRIMARY KEY (job_id, task_id)
);
CREATE INDEX subsetd_task_status ON subsetd_task (status);
