"""Search support.

`business_search` is a narrow copy of each *public* business (approved and active) with everything a
search needs: ids of its category and places, rating, flags, position, opening slots, a small title
vector (inline) and the full vector (stored out of line). A trigger on `businesses` keeps it exact.
Search and facets then read a few hundred bytes per business instead of the wide `businesses` rows.

Also: opening hours as 15-minute slots of the week (open now), a word list for "did you mean".
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-11-27T18:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "business_search, open-now slots, search words"

# Minutes of the week (Monday 00:00 = 0 .. 10080) during which a business is open, from its
# {"mon": [["08:00", "18:00"], ...]} hours; a span ending before it starts runs past midnight.
WEEK_MINUTES = """
CREATE OR REPLACE FUNCTION servicerw_week_minutes(hours jsonb) RETURNS int4multirange
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(range_agg(int4range(s, CASE WHEN e <= s THEN e + 1440 ELSE e END)), '{}'::int4multirange)
    FROM (
        SELECT d.idx * 1440 + split_part(span->>0, ':', 1)::int * 60 + split_part(span->>0, ':', 2)::int AS s,
               d.idx * 1440 + split_part(span->>1, ':', 1)::int * 60 + split_part(span->>1, ':', 2)::int AS e
        FROM (VALUES ('mon', 0), ('tue', 1), ('wed', 2), ('thu', 3), ('fri', 4), ('sat', 5), ('sun', 6))
             AS d(day, idx),
             jsonb_array_elements(CASE WHEN jsonb_typeof(hours->d.day) = 'array' THEN hours->d.day
                                       ELSE '[]'::jsonb END) AS span
    ) spans
$$
"""

# The same as 672 bits, one per 15 minutes of the week: "open now" is then one get_bit() per row.
OPEN_SLOTS = """
CREATE OR REPLACE FUNCTION servicerw_open_slots(hours jsonb) RETURNS bit(672)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    r int4range;
    bits text := '';
    pos int := 0;
    s int;
    e int;
BEGIN
    FOR r IN SELECT unnest(servicerw_week_minutes(hours)) LOOP
        s := least(672, lower(r) / 15);
        e := least(672, (upper(r) + 14) / 15);
        IF s > pos THEN bits := bits || repeat('0', s - pos); pos := s; END IF;
        IF e > pos THEN bits := bits || repeat('1', e - pos); pos := e; END IF;
    END LOOP;
    RETURN (bits || repeat('0', 672 - pos))::bit(672);
END
$$
"""

SYNC_FUNCTION = """
CREATE OR REPLACE FUNCTION business_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'approved' OR NOT NEW.is_active THEN
        DELETE FROM business_search WHERE business_id = NEW.id;
        RETURN NULL;
    END IF;
    INSERT INTO business_search AS s (
        business_id, business_name, slug, location_id, category_id, parent_category_id, province_id,
        district_id, sector_id, rating,
        review_count, is_verified, is_featured, created_at, open_slots, latitude, longitude, name_key,
        search_title, search_vector)
    SELECT NEW.id, NEW.business_name, NEW.slug, NEW.location_id, NEW.category_id, c.parent_id, l.province_id,
           l.district_id, l.sector_id,
           NEW.average_rating::real, NEW.review_count, NEW.is_verified, NEW.is_featured, NEW.created_at,
           servicerw_open_slots(NEW.opening_hours), NEW.latitude, NEW.longitude,
           lower(servicerw_unaccent(NEW.business_name)), NEW.search_title, NEW.search_vector
    FROM categories c, locations l
    WHERE c.id = NEW.category_id AND l.id = NEW.location_id
    ON CONFLICT (business_id) DO UPDATE SET
        business_name = EXCLUDED.business_name, slug = EXCLUDED.slug, location_id = EXCLUDED.location_id,
        category_id = EXCLUDED.category_id, parent_category_id = EXCLUDED.parent_category_id,
        province_id = EXCLUDED.province_id, district_id = EXCLUDED.district_id,
        sector_id = EXCLUDED.sector_id, rating = EXCLUDED.rating, review_count = EXCLUDED.review_count,
        is_verified = EXCLUDED.is_verified, is_featured = EXCLUDED.is_featured,
        created_at = EXCLUDED.created_at, open_slots = EXCLUDED.open_slots, latitude = EXCLUDED.latitude,
        longitude = EXCLUDED.longitude, name_key = EXCLUDED.name_key, search_title = EXCLUDED.search_title,
        search_vector = EXCLUDED.search_vector;
    RETURN NULL;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)

    async def add():
        await run_statements(
            WEEK_MINUTES,
            OPEN_SLOTS,
            """CREATE TABLE business_search (
                   business_id integer PRIMARY KEY REFERENCES businesses (id) ON DELETE CASCADE,
                   business_name text NOT NULL,
                   slug text NOT NULL,
                   location_id integer NOT NULL,
                   category_id integer NOT NULL,
                   parent_category_id integer,
                   province_id integer,
                   district_id integer,
                   sector_id integer,
                   rating real NOT NULL DEFAULT 0,
                   review_count integer NOT NULL DEFAULT 0,
                   is_verified boolean NOT NULL DEFAULT false,
                   is_featured boolean NOT NULL DEFAULT false,
                   created_at timestamptz NOT NULL,
                   open_slots bit(672) NOT NULL,
                   latitude double precision,
                   longitude double precision,
                   name_key text NOT NULL,
                   search_title tsvector NOT NULL,
                   search_vector tsvector NOT NULL
               ) WITH (toast_tuple_target = 1024)""",
            # The small title vector and the slots stay in the row; the large vector is moved out.
            "ALTER TABLE business_search ALTER COLUMN search_title SET STORAGE MAIN",
            "ALTER TABLE business_search ALTER COLUMN open_slots SET STORAGE MAIN",
            "ALTER TABLE business_search ALTER COLUMN search_vector SET STORAGE EXTERNAL",
            "CREATE INDEX idx_business_search_vector ON business_search USING gin (search_vector)",
            "CREATE INDEX idx_business_search_name_trgm ON business_search USING gin (name_key gin_trgm_ops)",
            "CREATE INDEX idx_business_search_category ON business_search (category_id)",
            "CREATE INDEX idx_business_search_parent_category ON business_search (parent_category_id)",
            "CREATE INDEX idx_business_search_district ON business_search (district_id)",
            "CREATE INDEX idx_business_search_sector ON business_search (sector_id)",
            "CREATE INDEX idx_business_search_lat_lng ON business_search (latitude, longitude)",
            SYNC_FUNCTION,
            """CREATE TRIGGER business_search_sync_trigger
               AFTER INSERT OR UPDATE ON businesses
               FOR EACH ROW EXECUTE FUNCTION business_search_sync()""",
            # Existing businesses (a no-op on a new database).
            "UPDATE businesses SET updated_at = updated_at WHERE status = 'approved' AND is_active",
            # The wide businesses rows: long texts and the large vector go out of line, so scans by the
            # plan's indexes touch far fewer pages.
            "ALTER TABLE businesses SET (toast_tuple_target = 256)",
            # Qualified: since PostgreSQL 17, materialized views are built and refreshed with a safe
            # search_path that no longer includes public.
            """CREATE MATERIALIZED VIEW search_words AS
               SELECT word, ndoc FROM ts_stat($$SELECT search_vector FROM public.business_search$$)
               WHERE length(word) >= 3""",
            "CREATE UNIQUE INDEX idx_search_words_word ON search_words (word)",
            "CREATE INDEX idx_search_words_trgm ON search_words USING gin (word gin_trgm_ops)",
            "CREATE INDEX IF NOT EXISTS idx_search_queries_zero ON search_queries (created_at) WHERE zero_results",
        )

    async def remove():
        await run_statements(
            "DROP INDEX IF EXISTS idx_search_queries_zero",
            "DROP MATERIALIZED VIEW IF EXISTS search_words",
            "ALTER TABLE businesses RESET (toast_tuple_target)",
            "DROP TRIGGER IF EXISTS business_search_sync_trigger ON businesses",
            "DROP FUNCTION IF EXISTS business_search_sync()",
            "DROP TABLE IF EXISTS business_search",
            "DROP FUNCTION IF EXISTS servicerw_open_slots(jsonb)",
            "DROP FUNCTION IF EXISTS servicerw_week_minutes(jsonb)",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
