-- The job store as the releases before numbered migrations wrote it: the
-- schema as SQLite keeps it (CREATE TABLE IF NOT EXISTS, then the columns added
-- by ALTER TABLE), no version table, and the rows of two jobs: one finished
-- (a file, an empty region, a region decided at submission), one waiting.

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
	, kind TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '[]', files_opened INTEGER NOT NULL DEFAULT 0);
INSERT INTO subsetd_job VALUES('01JA0000000000000000000001','sst','successful','','{"dataset":"sst","regions":[{"name":"north","bbox":[0,40,10,50]},{"name":"south","bbox":[0,-50,10,-40]},{"name":"far","bbox":[100,0,110,10]}]}',1,'key-1','hash-1',1767225600000,1767225600000,1767225600000,1767225600000,0,'file','["a note"]',2);
INSERT INTO subsetd_job VALUES('01JA0000000000000000000002','sst','accepted','','{"dataset":"sst","regions":[{"name":"north","bbox":[0,40,10,50]}]}',1,NULL,'',1767225600000,0,0,1767225600000,0,'file','[]',0);
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
INSERT INTO subsetd_region VALUES('01JA0000000000000000000001',0,'north',0,'successful','','[{"name":"north.nc","size":1234,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","md5":"098f6bcd4621d373cade4e832627b4f6"}]');
INSERT INTO subsetd_region VALUES('01JA0000000000000000000001',1,'south',0,'empty','outside the grid','[]');
INSERT INTO subsetd_region VALUES('01JA0000000000000000000001',2,'far',-1,'empty','no input file meets the region','[]');
INSERT INTO subsetd_region VALUES('01JA0000000000000000000002',0,'north',0,'accepted','','[]');
CREATE TABLE subsetd_task (
		job_id TEXT NOT NULL REFERENCES subsetd_job (id) ON DELETE CASCADE,
		task_id INTEGER NOT NULL,
		status TEXT NOT NULL,
		regions TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		river_id INTEGER NOT NULL DEFAULT 0,
		message TEXT NOT NULL DEFAULT '', files TEXT NOT NULL DEFAULT '[]', region_files TEXT NOT NULL DEFAULT 'null', concat INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (job_id, task_id)
	);
INSERT INTO subsetd_task VALUES('01JA0000000000000000000001',0,'successful','[0,1]',1,7,'','["sst/a.nc","sst/b.nc"]','[[0],[0,1]]',1);
INSERT INTO subsetd_task VALUES('01JA0000000000000000000002',0,'accepted','[0]',0,8,'','[]','null',0);
CREATE INDEX subsetd_job_status ON subsetd_job (status, id);
CREATE INDEX subsetd_task_status ON subsetd_task (status);
