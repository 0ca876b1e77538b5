"""API keys: the tier is one of the plan's three; an owner's keys are listed newest first."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core import db

ID = "2026-12-01T15:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "api keys constraints and index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="api", description=DESCRIPTION)

    async def add():
        await db.engine().run_ddl(
            "ALTER TABLE api_keys ADD CONSTRAINT api_keys_tier_check CHECK (tier IN ('free', 'basic', 'premium'))"
        )
        await db.engine().run_ddl(
            "CREATE INDEX IF NOT EXISTS idx_api_keys_user ON api_keys (user_id, created_at DESC)"
        )

    async def remove():
        await db.engine().run_ddl("DROP INDEX IF EXISTS idx_api_keys_user")
        await db.engine().run_ddl("ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_tier_check")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
