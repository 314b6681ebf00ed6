-- How far each task's cut is, as its worker says while it runs: the share
-- done (0..1, only growing, kept when a task is retried or stopped) and
-- the bytes of values read of those its plan reads.
ALTER TABLE subsetd_task ADD COLUMN progress REAL NOT NULL DEFAULT 0;
ALTER TABLE subsetd_task ADD COLUMN bytes_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subsetd_task ADD COLUMN bytes_total INTEGER NOT NULL DEFAULT 0;
