"""Browse pages and broad searches at 200k businesses: one (filter, rating) index per browse filter, so a
category or place page ordered by rating reads its 21 rows from an index and stops, whatever the number of
matches; the same for rating, newest and relevance without words over everything."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-01T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "business_search: (filter, rating) indexes for browse pages"

FILTERS = ("category_id", "parent_category_id", "province_id", "district_id", "sector_id")
QUALITY = (
    "0 + CASE WHEN is_verified THEN 0.05 ELSE 0 END + CASE WHEN is_featured THEN 0.03 ELSE 0 END"
    " + rating * least(review_count, 20) / 2000.0"
)
OLD = {
    "category": "category_id",
    "parent_category": "parent_category_id",
    "district": "district_id",
    "sector": "sector_id",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)

    async def add():
        await run_statements(
            *(
                f"CREATE INDEX IF NOT EXISTS idx_business_search_{column}_rating ON business_search "
                f"({column}, rating DESC, review_count DESC, business_id)"
                for column in FILTERS
            ),
            # The same order over everything (search without words, sorted by rating), and newest first.
            "CREATE INDEX IF NOT EXISTS idx_business_search_rating ON business_search "
            "(rating DESC, review_count DESC, business_id)",
            "CREATE INDEX IF NOT EXISTS idx_business_search_newest ON business_search (created_at DESC, business_id)",
            # Relevance without words is the nudges alone: this is SearchService's expression, character for
            # character (the planner matches the index only to the same expression).
            "CREATE INDEX IF NOT EXISTS idx_business_search_quality ON business_search "
            f"((({QUALITY})::float8) DESC, business_id)",
            # Names starting with the searched words (the strong matches of a broad search): a range scan.
            "CREATE INDEX IF NOT EXISTS idx_business_search_name_prefix ON business_search (name_key text_pattern_ops)",
            # The single-column indexes are the prefixes of the new ones: fewer indexes for the trigger to write.
            *(f"DROP INDEX IF EXISTS idx_business_search_{name}" for name in OLD),
        )

    async def remove():
        await run_statements(
            *(f"DROP INDEX IF EXISTS idx_business_search_{column}_rating" for column in FILTERS),
            "DROP INDEX IF EXISTS idx_business_search_rating",
            "DROP INDEX IF EXISTS idx_business_search_newest",
            "DROP INDEX IF EXISTS idx_business_search_quality",
            "DROP INDEX IF EXISTS idx_business_search_name_prefix",
            *(
                f"CREATE INDEX IF NOT EXISTS idx_business_search_{name} ON business_search ({column})"
                for name, column in OLD.items()
            ),
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
