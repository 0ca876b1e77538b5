"""Search support: weekly opening hours as minute ranges (open now), a word list for "did you mean",
and indexes for facets and near-me."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-11-27T18:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "open-now ranges, search words, facet and distance indexes"

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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)

    async def add():
        await run_statements(
            WEEK_MINUTES,
            """ALTER TABLE businesses ADD COLUMN open_minutes int4multirange
               GENERATED ALWAYS AS (servicerw_week_minutes(opening_hours)) STORED""",
            # Distance queries: a bounding box on latitude first, then haversine on the few rows left.
            """CREATE INDEX IF NOT EXISTS idx_businesses_lat_lng ON businesses (latitude, longitude)
               WHERE status = 'approved' AND is_active""",
            # Words of all public businesses' search vectors, for typo correction ("did you mean").
            """CREATE MATERIALIZED VIEW search_words AS
               SELECT word, ndoc FROM ts_stat($$SELECT search_vector FROM businesses
                                               WHERE status = 'approved' AND is_active$$)
               WHERE length(word) >= 3""",
            "CREATE UNIQUE INDEX idx_search_words_word ON search_words (word)",
            "CREATE INDEX idx_search_words_trgm ON search_words USING gin (word gin_trgm_ops)",
            "CREATE INDEX IF NOT EXISTS idx_search_queries_zero ON search_queries (created_at) WHERE zero_results",
        )

    async def remove():
        await run_statements(
            "DROP INDEX IF EXISTS idx_search_queries_zero",
            "DROP MATERIALIZED VIEW IF EXISTS search_words",
            "DROP INDEX IF EXISTS idx_businesses_lat_lng",
            "ALTER TABLE businesses DROP COLUMN IF EXISTS open_minutes",
            "DROP FUNCTION IF EXISTS servicerw_week_minutes(jsonb)",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
