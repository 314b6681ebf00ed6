-- On SQLite the first server cached dataset descriptions in a table that
-- the catalog's index replaced; PostgreSQL never had it.
DROP TABLE IF EXISTS subsetd_dataset;
