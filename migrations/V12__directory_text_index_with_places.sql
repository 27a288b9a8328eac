-- The full-text index also holds each profile's wilaya and commune (btree_gin, a trusted contrib
-- extension), so a text search within a wilaya or a commune intersects both inside the index
-- instead of visiting every profile of the country that matches the text and then dropping those
-- elsewhere: `plombier` in Alger reads 292 rows instead of 1,814 at 100,000 profiles (1.7 against
-- 4.1 ms; docs/PERFORMANCE.md, "Directory search"). The same size as the index it replaces; a
-- search without place filters uses it as before.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX professionals_search;
CREATE INDEX professionals_search ON professionals
    USING gin (search_vector, wilaya_code, commune_key);
