"""The plan's inquiry index (built concurrently, outside a transaction) and a status check."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently, run_statements

ID = "2026-11-27T17:53:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inquiry index and checks"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="inquiries", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        await run_statements(
            """ALTER TABLE customer_inquiries ADD CONSTRAINT customer_inquiries_status_check
               CHECK (status IN ('new', 'read', 'replied', 'closed'))"""
        )
        await create_index_concurrently(
            "idx_customer_inquiries_business_status",
            "ON customer_inquiries (business_id, status, created_at)",
        )

    async def remove():
        await drop_index_concurrently("idx_customer_inquiries_business_status")
        await run_statements(
            "ALTER TABLE customer_inquiries DROP CONSTRAINT IF EXISTS customer_inquiries_status_check"
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
