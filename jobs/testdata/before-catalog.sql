-- The job store as the first server wrote it, before the catalog: no kind,
-- notes or files_opened on jobs, no input files on tasks, and the table of
-- dataset descriptions that the catalog's index replaced.

CREATE TABLE subsetd_job (
		id TEXT PRIMARY KEY,
		dataset TEXT NOT NULL,
		status TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		spec TEXT NOT NULL,
		tasks INTEGER NOT NULL,
		idem_key TEXT UNIQUE,
		idem_hash TEXT NOT NULL DEFAULT '',
		created_ms INTEGER NOT NULL,
		started_ms INTEGER NOT NULL DEFAULT 0,
		finished_ms INTEGER NOT NULL DEFAULT 0,
		updated_ms INTEGER NOT NULL,
		deadline_ms INTEGER NOT NULL DEFAULT 0
	);
CREATE INDEX subsetd_job_status ON subsetd_job (status, id);
CREATE TABLE subsetd_region (
		job_id TEXT NOT NULL REFERENCES subsetd_job (id) ON DELETE CASCADE,
		idx INTEGER NOT NULL,
		name TEXT NOT NULL,
		task_id INTEGER NOT NULL,
		status TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		files TEXT NOT NULL DEFAULT '[]',
		PRIMARY KEY (job_id, idx)
	);
CREATE TABLE subsetd_task (
		job_id TEXT NOT NULL REFERENCES subsetd_job (id) ON DELETE CASCADE,
		task_id INTEGER NOT NULL,
		status TEXT NOT NULL,
		regions TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		river_id INTEGER NOT NULL DEFAULT 0,
		message TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (job_id, task_id)
	);
CREATE INDEX subsetd_task_status ON subsetd_task (status);
CREATE TABLE subsetd_dataset (
		id TEXT PRIMARY KEY,
		fingerprint TEXT NOT NULL,
		doc TEXT NOT NULL,
		updated_ms INTEGER NOT NULL
	);

INSERT INTO subsetd_job VALUES('01H00000000000000000000001','sst','accepted','','{"dataset":"sst","regions":[{"name":"north","bbox":[0,40,10,50]}]}',1,NULL,'',1700000000000,0,0,1700000000000,0);
INSERT INTO subsetd_region VALUES('01H00000000000000000000001',0,'north',0,'accepted','','[]');
INSERT INTO subsetd_task VALUES('01H00000000000000000000001',0,'accepted','[0]',0,3,'');
INSERT INTO subsetd_dataset VALUES('sst','1:2','{}',1700000000000);
