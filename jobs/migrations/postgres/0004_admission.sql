-- One row that every submission updates first in its transaction, before
-- it counts what it must fit in (active jobs) and inserts the job: the row
-- lock makes submissions take turns, so the counts stay true until the
-- insert commits.
CREATE TABLE subsetd_admission (
	id  INTEGER PRIMARY KEY,
	seq BIGINT NOT NULL
);
INSERT INTO subsetd_admission (id, seq) VALUES (1, 0);
