-- Listings read a page of ids and statuses, newest first: indexes that
-- hold both answer from the index alone, without a lookup of each row.
CREATE INDEX subsetd_job_list ON subsetd_job (id, status);
DROP INDEX subsetd_job_owner;
CREATE INDEX subsetd_job_owner ON subsetd_job (owner, id, status);
