-- The index on PostgreSQL: datasets, their files, and a PostGIS table of
-- the files' boxes and time ranges under one GiST index (its layout is
-- described in store_pg.go, beside the code that fills it). The columns of
-- datasets and files are those of SQLite's index. PostGIS must be installed
-- in the database (CREATE EXTENSION postgis, once, by a superuser: this
-- statement does nothing when it is there).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE datasets (
	id         BIGSERIAL PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	scanned_at BIGINT NOT NULL DEFAULT 0 -- Unix ns of the end of the last scan
);
CREATE TABLE files (
	id            BIGSERIAL PRIMARY KEY,
	dataset_id    BIGINT NOT NULL REFERENCES datasets(id),
	path          TEXT NOT NULL UNIQUE,   -- relative to the data root, '/'-separated
	size          BIGINT NOT NULL,
	mtime_ns      BIGINT NOT NULL,
	indexed_at    BIGINT NOT NULL,        -- Unix ns; also the row's version for caches
	error         TEXT NOT NULL DEFAULT '', -- why the file could not be read ('' when it could)
	format        TEXT NOT NULL DEFAULT '',
	grid_kind     TEXT NOT NULL DEFAULT '',
	variables     TEXT NOT NULL DEFAULT '[]', -- JSON [Variable]
	dimensions    TEXT NOT NULL DEFAULT '[]', -- JSON [Dimension]
	west DOUBLE PRECISION, south DOUBLE PRECISION, east DOUBLE PRECISION, north DOUBLE PRECISION, -- cell centres; west > east crosses the antimeridian
	footprint     TEXT,                   -- GeoJSON Polygon/MultiPolygon, longitudes unwrapped
	footprint_tol DOUBLE PRECISION NOT NULL DEFAULT 0,
	t_start       BIGINT,                 -- UTC Unix seconds
	t_end         BIGINT,
	t_start_iso   TEXT NOT NULL DEFAULT '', -- as decoded in the file's calendar
	t_end_iso     TEXT NOT NULL DEFAULT '',
	time_steps    INTEGER NOT NULL DEFAULT 0,
	time_units    TEXT NOT NULL DEFAULT '',
	calendar      TEXT NOT NULL DEFAULT '',
	time_error    TEXT NOT NULL DEFAULT '',
	sha256        TEXT NOT NULL DEFAULT '',
	grid_sig      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX files_by_dataset ON files(dataset_id, t_start, path);

-- One row per part of a file's box (2*file_id, and 2*file_id+1 for the
-- eastern part of a box crossing the antimeridian): the box in longitude
-- and latitude (EPSG:4326, every part within [-180, 180]) and the time
-- range in Unix seconds, one GiST index over both.
CREATE TABLE files_box (
	id         BIGINT PRIMARY KEY,
	file_id    BIGINT NOT NULL,
	dataset_id BIGINT NOT NULL,
	box        geometry(Polygon, 4326) NOT NULL,
	trange     numrange NOT NULL
);
CREATE INDEX files_box_gist ON files_box USING gist (box, trange);
CREATE INDEX files_box_dataset ON files_box (dataset_id);
