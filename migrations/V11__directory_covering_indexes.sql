-- Searches by category, wilaya or distance read what they rank and count (id, category, wilaya,
-- creation time, rating, verification) from the index alone, without visiting the table: an
-- index-only scan costs a tenth of a heap visit per match (0.08 against 0.6 ms for the 257 lawyers
-- of Alger at 100,000 profiles; docs/PERFORMANCE.md, "Directory search"). Text searches still visit
-- the table: a GIN index cannot return columns.
-- The category index also carries languages and opening hours, so that a category with those
-- filters is read from it alone too: all of health open now, 87 ms through the table, 7.7 ms from
-- the index. It triples that index (21 MB at 100,000 profiles); the others stay narrow.
DROP INDEX professionals_category;
CREATE INDEX professionals_category ON professionals (category_id, wilaya_code)
    INCLUDE (id, created_at, rating_average, rating_count, verified, languages, open_minutes);
DROP INDEX professionals_wilaya;
CREATE INDEX professionals_wilaya ON professionals (wilaya_code)
    INCLUDE (id, category_id, created_at, rating_average, rating_count, verified);
DROP INDEX professionals_location;
CREATE INDEX professionals_location ON professionals USING gist (location)
    INCLUDE (id, category_id, wilaya_code, created_at, rating_average, rating_count, verified);

-- An index-only scan still visits the table for pages changed since the last vacuum (every new
-- review changes its profile's row). Vacuum after 2% of the rows changed, not the default 20%, so
-- that most pages stay marked all-visible.
ALTER TABLE professionals SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.02
);
