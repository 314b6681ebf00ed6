-- Statistics: where a job's statistics are ('' when it asks for none;
-- 'pending' until its tasks are done, 'assembling' while its stats.nc and
-- stats.csv are written, 'done' once they are listed) and the files of the
-- job itself (JSON [File]: stats.nc, stats.csv).
ALTER TABLE subsetd_job ADD COLUMN stats TEXT NOT NULL DEFAULT '';
ALTER TABLE subsetd_job ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
