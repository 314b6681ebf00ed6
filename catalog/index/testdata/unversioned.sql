-- The index as the releases before numbered migrations wrote it: the schema
-- (PRAGMA user_version 1, no version table) and the rows a scan of four files
-- stored: a box, a box across the antimeridian, a failed file, a footprint.

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
PRAGMA user_version = 1;

INSERT INTO datasets VALUES(1,'sst',1748779200000000000);
INSERT INTO datasets VALUES(2,'swath',1748779200000000000);
INSERT INTO files VALUES(1,1,'sst/2020-01.nc',1000,1748779200000000000,1796157337177325284,'','netcdf4','rectilinear','[{"name":"lat","type":"float","dimensions":["lat"],"shape":[3]},{"name":"lon","type":"float","dimensions":["lon"],"shape":[3]},{"name":"time","type":"double","dimensions":["time"],"shape":[4]},{"name":"sst","type":"float","dimensions":["time","lat","lon"]}]','[{"name":"lat","length":3},{"name":"lon","length":3},{"name":"time","length":4,"unlimited":true}]',0.0,40.0,10.0,50.0,NULL,0.0,1577836800,1577901600,'2020-01-01T00:00:00Z','2020-01-01T18:00:00Z',4,'days since 2000-01-01','standard','','aa','d9ee41088ca9ddcd30adbb9e');
INSERT INTO files VALUES(2,1,'sst/2020-02.nc',2000,1748779200000000000,1796157337177325284,'','netcdf4','rectilinear','[{"name":"lat","type":"float","dimensions":["lat"],"shape":[3]},{"name":"lon","type":"float","dimensions":["lon"],"shape":[3]},{"name":"time","type":"double","dimensions":["time"],"shape":[4]},{"name":"sst","type":"float","dimensions":["time","lat","lon"]}]','[{"name":"lat","length":3},{"name":"lon","length":3},{"name":"time","length":4,"unlimited":true}]',170.0,-10.0,-170.0,10.0,NULL,0.0,1577836800,1578096000,'2020-01-01T00:00:00Z','2020-01-04T00:00:00Z',4,'days since 2000-01-01','standard','','','8148a2844f82ba0fc8ffb6b0');
INSERT INTO files VALUES(3,1,'sst/bad.nc',10,1748779200000000000,1796157337177325284,'not a netCDF or HDF5 file','','','[]','[]',NULL,NULL,NULL,NULL,NULL,0.0,NULL,NULL,'','',0,'','','','','');
INSERT INTO files VALUES(4,2,'swath/s1.nc',3000,1748779200000000000,1796157337177325284,'','netcdf4','rectilinear','[{"name":"lat","type":"float","dimensions":["lat"],"shape":[1]},{"name":"lon","type":"float","dimensions":["lon"],"shape":[1]},{"name":"ice","type":"float","dimensions":["lat","lon"]}]','[{"name":"lat","length":1},{"name":"lon","length":1}]',-30.0,60.0,-27.699999999999999288,61.5,'{"coordinates":[[[-30,60],[-29.5,60],[-29,60],[-28.5,60],[-28,60],[-27.9,60.5],[-27.8,61],[-27.7,61.5],[-28.2,61.5],[-28.7,61.5],[-29.2,61.5],[-29.7,61.5],[-29.8,61],[-29.9,60.5],[-30,60]]],"type":"Polygon"}',0.0,NULL,NULL,'','',0,'','','','','ec1a022be631743e6f29c9bb');
INSERT INTO files_rtree VALUES(2,0.75,1.25,-0.0010000000474974513053,10.001000404357910156,39.998996734619140625,50.001007080078124999,1577834752.0,1577903616.0,1);
INSERT INTO files_rtree VALUES(4,0.75,1.25,169.99899291992187499,180.001007080078125,-10.001000404357910156,10.001000404357910156,1577834752.0,1578098048.0,2);
INSERT INTO files_rtree VALUES(5,0.75,1.25,-180.001007080078125,-169.99899291992187499,-10.001000404357910156,10.001000404357910156,1577834752.0,1578098048.0,2);
INSERT INTO files_rtree VALUES(8,1.75,2.25,-30.001003265380859375,-27.698999404907226561,59.998992919921875,61.501007080078125,-1000000121208832.0,1000000121208832.0,4);
