-- Notifications of jobs that ask for them (spec.notify): one row per
-- message, written in the transaction of the change it tells of, with the
-- queue entry that delivers it. The id is the message's webhook-id, the
-- same for every attempt; body is the payload, fixed at the first attempt;
-- attempts a JSON list of {at, status, error, ms}.
CREATE TABLE subsetd_delivery (
	job_id     TEXT NOT NULL,
	id         TEXT NOT NULL,
	event      TEXT NOT NULL,               -- finished | region
	region     INTEGER NOT NULL DEFAULT -1, -- the region's index, for region events
	status     TEXT NOT NULL,               -- pending | delivered | failed
	created_ms BIGINT NOT NULL,
	body       TEXT NOT NULL DEFAULT '',
	attempts   TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (job_id, id)
);
