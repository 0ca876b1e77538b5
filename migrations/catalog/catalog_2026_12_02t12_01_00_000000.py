"""Words people type for each category (`category_synonyms`), province names in Kinyarwanda and French, and
cell names as people write them ("Rukiri II", not "Rukiriii"), for new and existing databases alike.
Businesses in a renamed place get their search vectors rebuilt (a few dozen rows at most)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.catalog.loader import sync_locations, sync_synonyms
from servicerw.core.migrations import connection, run_statements

ID = "2026-12-02T12:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "category synonyms and place names in three languages"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def add():
        await run_statements(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_category_synonyms_phrase ON category_synonyms (category_id, phrase)",
            """ALTER TABLE category_synonyms ADD CONSTRAINT category_synonyms_lang_check
               CHECK (lang IN ('rw', 'en', 'fr'))""",
        )
        async with connection() as conn:
            await sync_synonyms(conn)
            await sync_locations(conn)

    async def remove():
        # Names stay corrected (the old spelling was wrong); the synonyms go with their table.
        await run_statements(
            "ALTER TABLE category_synonyms DROP CONSTRAINT IF EXISTS category_synonyms_lang_check",
            "DROP INDEX IF EXISTS idx_category_synonyms_phrase",
            "DELETE FROM category_synonyms",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
