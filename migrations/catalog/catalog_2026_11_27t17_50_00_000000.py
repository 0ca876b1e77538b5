"""Extensions for search (pg_trgm, unaccent), an immutable unaccent for indexes, and reference data:
the category tree and Rwanda's provinces, districts, sectors and cells."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.catalog.loader import load_categories, load_locations
from servicerw.core.migrations import connection, run_statements

ID = "2026-11-27T17:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search extensions and reference data"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def extensions_and_data():
        await run_statements(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE EXTENSION IF NOT EXISTS unaccent",
            # unaccent() is only STABLE (it depends on search_path); indexes need an IMMUTABLE wrapper.
            """CREATE OR REPLACE FUNCTION servicerw_unaccent(text) RETURNS text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
               AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$""",
            "CREATE INDEX IF NOT EXISTS idx_categories_parent ON categories (parent_id, sort_order)",
            "CREATE INDEX IF NOT EXISTS idx_locations_parent ON locations (parent_id, name)",
        )
        async with connection() as conn:
            await load_categories(conn)
            await load_locations(conn)

    async def remove():
        await run_statements(
            "DELETE FROM locations",
            "DELETE FROM categories",
            "DROP INDEX IF EXISTS idx_locations_parent",
            "DROP INDEX IF EXISTS idx_categories_parent",
            "DROP FUNCTION IF EXISTS servicerw_unaccent(text)",
        )

    manager.add_raw(extensions_and_data)
    manager.add_raw_backwards(remove)
    return manager
