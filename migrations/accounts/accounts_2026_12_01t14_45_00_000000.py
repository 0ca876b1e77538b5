"""Operators find users by any part of their email, name or phone number (digits only, whatever the
spacing): trigram indexes answer `ILIKE '%…%'` without reading the whole table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently, run_statements

ID = "2026-12-01T14:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "user search indexes"

INDEXES = {
    "idx_users_email_trgm": "ON users USING gin (email gin_trgm_ops)",
    "idx_users_name_trgm": "ON users USING gin (full_name gin_trgm_ops)",
    "idx_users_phone_digits_trgm": (
        "ON users USING gin ((regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')) gin_trgm_ops)"
    ),
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="accounts", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        # The catalog's migrations create it too; accounts run first on a fresh database.
        await run_statements("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, definition in INDEXES.items():
            await create_index_concurrently(name, definition)

    async def remove():
        await drop_index_concurrently(*INDEXES)

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
