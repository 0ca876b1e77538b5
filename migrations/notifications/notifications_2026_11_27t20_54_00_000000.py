"""Outbox indexes, built CONCURRENTLY (not in a transaction) because the table holds millions of sent rows:
the claim query reads only due pending/sending rows (a small partial index), the delivery statistics read
a time window by created_at. Plus a status check, added NOT VALID then validated (no long write lock)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently, run_statements

ID = "2026-11-27T20:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox claim and statistics indexes, status check"

INDEXES = {
    "idx_email_outbox_due": "ON email_outbox (send_after) WHERE status IN ('pending', 'sending')",
    "idx_email_outbox_created_at": "ON email_outbox (created_at)",
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        await run_statements(
            "ALTER TABLE email_outbox DROP CONSTRAINT IF EXISTS email_outbox_status_check",
            """ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_status_check
               CHECK (status IN ('pending', 'sending', 'sent', 'dead')) NOT VALID""",
            "ALTER TABLE email_outbox VALIDATE CONSTRAINT email_outbox_status_check",
        )
        for name, definition in INDEXES.items():
            await create_index_concurrently(name, definition)

    async def remove():
        await drop_index_concurrently(*INDEXES)
        await run_statements("ALTER TABLE email_outbox DROP CONSTRAINT IF EXISTS email_outbox_status_check")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
