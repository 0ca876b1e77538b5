"""The rollups are read by (district, category, metric, day) ranges and written by day ranges; the unique
keys make a second roll of the same day impossible to double-count (each roll deletes, then inserts)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core import db

ID = "2026-12-01T14:47:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "insights rollup keys"

INDEXES = {
    "idx_insights_daily_key": "UNIQUE INDEX IF NOT EXISTS idx_insights_daily_key "
    "ON insights_daily (district_id, category_id, metric, day) INCLUDE (n)",
    "idx_insights_daily_day": "INDEX IF NOT EXISTS idx_insights_daily_day ON insights_daily (day)",
    "idx_insights_search_daily_key": "UNIQUE INDEX IF NOT EXISTS idx_insights_search_daily_key "
    "ON insights_search_daily (district, category, day, query) INCLUDE (searches, zero_results)",
    "idx_insights_search_daily_day": "INDEX IF NOT EXISTS idx_insights_search_daily_day "
    "ON insights_search_daily (day)",
    "idx_insights_search_monthly_key": "UNIQUE INDEX IF NOT EXISTS idx_insights_search_monthly_key "
    "ON insights_search_monthly (district, category, month, query) INCLUDE (searches, zero_results)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="insights", description=DESCRIPTION)

    async def add():
        for definition in INDEXES.values():
            await db.engine().run_ddl(f"CREATE {definition}")

    async def remove():
        for name in INDEXES:
            await db.engine().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
