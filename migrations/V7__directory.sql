-- The directory: professionals, their services and their reviews, searchable by text, category,
-- place, rating, opening hours, language and distance. docs/DIRECTORY.md explains each index.

-- Trigram similarity (typos, partial words) and 3-D points (distance search without function-based
-- indexes, so dumps restore whatever the search_path). Both are trusted contrib extensions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;

CREATE TABLE professionals (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    -- "C" collation: slugs are ASCII, and LIKE 'base-%' (finding namesakes) can use the index.
    slug text COLLATE "C" NOT NULL,
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 2 AND 120),
    business_name text CHECK (char_length(business_name) BETWEEN 1 AND 160),
    bio_ar text NOT NULL DEFAULT '' CHECK (char_length(bio_ar) <= 4000),
    bio_fr text NOT NULL DEFAULT '' CHECK (char_length(bio_fr) <= 4000),
    category_id smallint NOT NULL REFERENCES categories (id),
    wilaya_code text NOT NULL REFERENCES wilayas (code),
    commune text NOT NULL CHECK (char_length(commune) BETWEEN 1 AND 100),
    -- The commune folded like search text, so `commune=bab ezzouar` finds `Bab Ezzouar`.
    commune_key text NOT NULL,
    address text NOT NULL DEFAULT '' CHECK (char_length(address) <= 300),
    latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    -- The point on a sphere of the Earth's mean radius, in km (x, y, z), derived from latitude and
    -- longitude by core; NULL without coordinates.
    location cube,
    phone text CHECK (char_length(phone) <= 32),
    email text CHECK (char_length(email) <= 254),
    website text CHECK (char_length(website) <= 300),
    languages text[] NOT NULL DEFAULT '{}',
    -- As given: {"mon": [{"open": "08:00", "close": "12:00"}], ...}, Africa/Algiers time.
    opening_hours jsonb NOT NULL DEFAULT '{}',
    -- The same hours as minutes since Monday 00:00 (0..10080), for "open now".
    open_minutes int4multirange NOT NULL DEFAULT '{}',
    years_experience smallint CHECK (years_experience BETWEEN 0 AND 80),
    verified boolean NOT NULL DEFAULT false,
    -- Kept exact by the trigger on reviews, in the same transaction as each review change.
    rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum integer NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    rating_distribution integer[] NOT NULL DEFAULT '{0,0,0,0,0}'
        CHECK (cardinality(rating_distribution) = 5),
    rating_average numeric(3, 2) GENERATED ALWAYS AS (
        CASE WHEN rating_count > 0 THEN round(rating_sum::numeric / rating_count, 2) END
    ) STORED,
    -- Everything searchable, folded and weighted: names A, categories, services and places B,
    -- bios C.
    search_vector tsvector NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT professionals_user_key UNIQUE (user_id),
    CONSTRAINT professionals_slug_key UNIQUE (slug),
    CONSTRAINT professionals_coordinates_check CHECK ((latitude IS NULL) = (longitude IS NULL))
);

-- One index per filter; the planner combines them (BitmapAnd) or picks the most selective.
-- docs/DIRECTORY.md gives each index's reason.
CREATE INDEX professionals_search ON professionals USING gin (search_vector);
-- Also covers the facet counts of an unfiltered search (an index-only scan).
CREATE INDEX professionals_category ON professionals (category_id, wilaya_code);
CREATE INDEX professionals_wilaya ON professionals (wilaya_code);
CREATE INDEX professionals_commune ON professionals (commune_key);
CREATE INDEX professionals_rating ON professionals (rating_average DESC NULLS LAST, rating_count DESC, id);
CREATE INDEX professionals_verified ON professionals (verified, created_at DESC);
CREATE INDEX professionals_newest ON professionals (created_at DESC, id DESC);
CREATE INDEX professionals_languages ON professionals USING gin (languages);
CREATE INDEX professionals_open ON professionals USING gist (open_minutes);
CREATE INDEX professionals_location ON professionals USING gist (location);

-- Every word profiles are found by (names, categories, services, places; four letters or more):
-- the dictionary a misspelt query word is corrected against (`plombiere` -> `plombier`) before
-- the full-text match. Small (distinct words only), so the trigram lookup is fast, and the
-- profile rows need no trigram index of their own. Words are never removed: a stale word only
-- expands a query to something that matches nothing.
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops);

CREATE TABLE professional_services (
    id uuid PRIMARY KEY,
    professional_id uuid NOT NULL REFERENCES professionals (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 2 AND 120),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
    price_min_minor bigint CHECK (price_min_minor >= 0),
    price_max_minor bigint CHECK (price_max_minor >= 0),
    price_unit text NOT NULL CHECK (price_unit IN ('hour', 'visit', 'project', 'item')),
    duration_minutes integer CHECK (duration_minutes BETWEEN 1 AND 10080),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT professional_services_price_range_check CHECK (price_max_minor >= price_min_minor)
);
CREATE INDEX professional_services_professional ON professional_services (professional_id, created_at);

CREATE TABLE reviews (
    id uuid PRIMARY KEY,
    professional_id uuid NOT NULL REFERENCES professionals (id) ON DELETE CASCADE,
    author_id uuid NOT NULL REFERENCES users (id),
    overall_rating smallint NOT NULL CHECK (overall_rating BETWEEN 1 AND 5),
    quality_rating smallint CHECK (quality_rating BETWEEN 1 AND 5),
    professionalism_rating smallint CHECK (professionalism_rating BETWEEN 1 AND 5),
    value_rating smallint CHECK (value_rating BETWEEN 1 AND 5),
    punctuality_rating smallint CHECK (punctuality_rating BETWEEN 1 AND 5),
    communication_rating smallint CHECK (communication_rating BETWEEN 1 AND 5),
    text text CHECK (char_length(text) <= 2000),
    would_recommend boolean NOT NULL,
    reply text CHECK (char_length(reply) <= 2000),
    replied_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_once_key UNIQUE (professional_id, author_id)
);
-- The three orders of a profile's review list, each an index range scan.
CREATE INDEX reviews_newest ON reviews (professional_id, created_at DESC, id DESC);
CREATE INDEX reviews_by_rating ON reviews (professional_id, overall_rating, created_at DESC, id DESC);
CREATE INDEX reviews_author ON reviews (author_id);

-- The profile's rating summary follows every review change in the same transaction. The UPDATE
-- locks the profile row, so concurrent reviews of one professional serialise here and the counts
-- stay exact.
CREATE FUNCTION reviews_maintain_rating() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE professionals
           SET rating_count = rating_count - 1,
               rating_sum = rating_sum - OLD.overall_rating,
               rating_distribution[OLD.overall_rating] = rating_distribution[OLD.overall_rating] - 1
         WHERE id = OLD.professional_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE professionals
           SET rating_count = rating_count + 1,
               rating_sum = rating_sum + NEW.overall_rating,
               rating_distribution[NEW.overall_rating] = rating_distribution[NEW.overall_rating] + 1
         WHERE id = NEW.professional_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reviews_rating_summary
AFTER INSERT OR DELETE OR UPDATE OF overall_rating, professional_id ON reviews
FOR EACH ROW EXECUTE FUNCTION reviews_maintain_rating();
