-- A key's own limit on the output of one job (bytes of files, as its dry
-- run estimates them); NULL: the server's default.
ALTER TABLE subsetd_key ADD COLUMN max_output_bytes BIGINT;
