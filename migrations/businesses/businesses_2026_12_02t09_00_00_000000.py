"""The byte size of each processed photo variant, so that data-saver placeholders can say what a tap costs.

`business_images.variant_bytes`: {"640.webp": 38211, "640.jpg": 51200, ...} (key width and extension, as in the
object key `<storage_key>/<width>.<ext>`), written by the photo worker. Photos processed before this migration
keep `{}`: their placeholders say "tap to load" without a size.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "photo variant sizes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="businesses", description=DESCRIPTION)

    async def add():
        await run_statements(
            "ALTER TABLE business_images ADD COLUMN IF NOT EXISTS variant_bytes jsonb NOT NULL DEFAULT '{}'::jsonb"
        )

    async def remove():
        await run_statements("ALTER TABLE business_images DROP COLUMN IF EXISTS variant_bytes")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
