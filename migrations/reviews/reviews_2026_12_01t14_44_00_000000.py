"""A published review can be hidden by an operator after an abuse report (status `hidden`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-01T14:44:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "hidden reviews"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reviews", description=DESCRIPTION)

    async def add():
        await run_statements(
            "ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_status_check",
            """ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
               CHECK (status IN ('pending', 'approved', 'rejected', 'hidden'))""",
        )

    async def remove():
        await run_statements(
            "UPDATE reviews SET status = 'rejected' WHERE status = 'hidden'",
            "ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_status_check",
            """ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
               CHECK (status IN ('pending', 'approved', 'rejected'))""",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
