"""The moderation queue (pending reviews, oldest first) and the newest approved reviews of a business."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently

ID = "2026-11-27T20:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review moderation and listing indexes"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reviews", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        await create_index_concurrently("idx_reviews_pending", "ON reviews (created_at) WHERE status = 'pending'")
        await create_index_concurrently(
            "idx_reviews_business_newest", "ON reviews (business_id, created_at DESC) WHERE status = 'approved'"
        )

    async def remove():
        await drop_index_concurrently("idx_reviews_business_newest", "idx_reviews_pending")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
