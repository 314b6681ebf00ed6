-- Servers sharing the database (PostgreSQL; on SQLite there is one): each
-- says it is alive every few seconds, and a task records the node running
-- it, so that the tasks of a node that stopped answering are handed to
-- another.
CREATE TABLE subsetd_node (
	id         TEXT PRIMARY KEY,
	host       TEXT NOT NULL,
	pid        INTEGER NOT NULL,
	started_ms INTEGER NOT NULL,
	seen_ms    INTEGER NOT NULL
);
ALTER TABLE subsetd_task ADD COLUMN node TEXT NOT NULL DEFAULT '';
