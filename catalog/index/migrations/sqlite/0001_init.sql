-- The index: datasets, their files, and an R*Tree over the files' boxes and
-- times (its layout is described in store.go, beside the code that fills it).

CREATE TABLE datasets (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	scanned_at INTEGER NOT NULL DEFAULT 0 -- Unix ns of the end of the last scan
);
CREATE TABLE files (
	id            INTEGER PRIMARY KEY,
	dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
	path          TEXT NOT NULL UNIQUE,   -- relative to the data root, '/'-separated
	size          INTEGER NOT NULL,
	mtime_ns      INTEGER NOT NULL,
	indexed_at    INTEGER NOT NULL,       -- Unix ns; also the row's version for caches
	error         TEXT NOT NULL DEFAULT '', -- why the file could not be read ('' when it could)
	format        TEXT NOT NULL DEFAULT '',
	grid_kind     TEXT NOT NULL DEFAULT '',
	variables     TEXT NOT NULL DEFAULT '[]', -- JSON [Variable]
	dimensions    TEXT NOT NULL DEFAULT '[]', -- JSON [Dimension]
	west REAL, south REAL, east REAL, north REAL, -- cell centres; west > east crosses the antimeridian
	footprint     TEXT,                   -- GeoJSON Polygon/MultiPolygon, longitudes unwrapped
	footprint_tol REAL NOT NULL DEFAULT 0,
	t_start       INTEGER,                -- UTC Unix seconds
	t_end         INTEGER,
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
CREATE VIRTUAL TABLE files_rtree USING rtree(id, ds0, ds1, lon0, lon1, lat0, lat1, t0, t1, +file_id);
