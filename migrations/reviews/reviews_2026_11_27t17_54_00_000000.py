"""The plan's review index (concurrently), one review per customer per business, rating 1-5."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently, run_statements

ID = "2026-11-27T17:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review index and checks"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reviews", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        await run_statements(
            "ALTER TABLE reviews ADD CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5)",
            """ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
               CHECK (status IN ('pending', 'approved', 'rejected'))""",
            "ALTER TABLE reviews ADD CONSTRAINT reviews_one_per_customer UNIQUE (business_id, user_id)",
        )
        await create_index_concurrently(
            "idx_reviews_business_rating",
            "ON reviews (business_id, rating, created_at) WHERE status = 'approved'",
        )

    async def remove():
        await drop_index_concurrently("idx_reviews_business_rating")
        await run_statements(
            "ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_one_per_customer",
            "ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_status_check",
            "ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_rating_check",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
