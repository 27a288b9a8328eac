-- Which way a profile's search vector was built. Format 1 (V7) stored the words of the profile's
-- category (with its ancestors and keywords) and of its wilaya in every vector: two thirds of it,
-- the same for every profile there. Format 2 leaves them out; core matches query words against the
-- categories and wilayas in memory and asks for `category_id` or `wilaya_code` instead
-- (contacto-core/src/directory/topics.rs). Both formats match the same profiles, so searches stay
-- right while the server rebuilds format-1 vectors in the background, a batch at a time.
-- A constant default: adding the column rewrites nothing.
ALTER TABLE professionals ADD COLUMN search_format smallint NOT NULL DEFAULT 1;

-- Finds what is left to rebuild without reading the table; empty once everything is rebuilt.
CREATE INDEX professionals_search_format ON professionals (id) WHERE search_format < 2;
