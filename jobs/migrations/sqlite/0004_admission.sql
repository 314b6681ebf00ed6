-- One row that every submission updates first in its transaction, before
-- it counts what it must fit in (active jobs) and inserts the job. Where
-- writers lock rows (PostgreSQL) submissions take turns on it, so the counts
-- stay true until the insert commits; SQLite takes its write lock at that
-- first update, which serialises submissions the same way.
CREATE TABLE subsetd_admission (
	id  INTEGER PRIMARY KEY,
	seq INTEGER NOT NULL
);
INSERT INTO subsetd_admission (id, seq) VALUES (1, 0);
