-- The first server cached dataset descriptions here; the catalog's index
-- replaced them.
DROP TABLE IF EXISTS subsetd_dataset;
