"""The plan's business indexes, built CONCURRENTLY so a live table is never locked for writes.

CREATE INDEX CONCURRENTLY cannot run inside a transaction, so this migration is not wrapped in one;
each step is idempotent (IF NOT EXISTS, invalid leftovers dropped first) and safe to re-run.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently

ID = "2026-11-27T17:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "business indexes (concurrently)"

INDEXES = {
    # Partial: only public businesses are ever searched, and the planner then needs no other index.
    "idx_businesses_search_vector": "ON businesses USING gin (search_vector) WHERE status = 'approved' AND is_active",
    "idx_businesses_location_category": "ON businesses (location_id, category_id) WHERE status = 'approved'",
    "idx_businesses_featured_active": (
        "ON businesses (is_featured, created_at) WHERE status = 'approved' AND is_active"
    ),
    # Typo tolerance: trigram similarity on the unaccented name.
    "idx_businesses_name_trgm": (
        "ON businesses USING gin (servicerw_unaccent(business_name) gin_trgm_ops) WHERE status = 'approved' AND is_active"
    ),
    "idx_businesses_owner": "ON businesses (owner_id)",
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="businesses", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        for name, definition in INDEXES.items():
            await create_index_concurrently(name, definition)

    async def remove():
        await drop_index_concurrently(*INDEXES)

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
