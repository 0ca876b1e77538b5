"""What a report may hold (kinds, reasons, statuses, a review for review reports only, a resolution once
resolved) and the operators' queue: open reports oldest first, and the open reports about one target."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import create_index_concurrently, drop_index_concurrently, run_statements

ID = "2026-12-01T14:43:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "report checks and queue indexes"

CHECKS = {
    "reports_kind_check": """CHECK ((kind = 'business' AND review_id IS NULL)
                                  OR (kind = 'review' AND review_id IS NOT NULL))""",
    "reports_reason_check": "CHECK (reason IN ('spam', 'wrong_info', 'offensive', 'fraud', 'closed', 'other'))",
    "reports_details_check": "CHECK (char_length(details) <= 1000)",
    "reports_status_check": """CHECK ((status = 'open' AND resolution IS NULL AND resolved_at IS NULL)
        OR (status = 'resolved' AND resolution IN ('hidden', 'suspended', 'dismissed') AND resolved_at IS NOT NULL))""",
}
INDEXES = {
    "idx_reports_open": "ON reports (created_at, id) WHERE status = 'open'",
    "idx_reports_open_target": "ON reports (business_id, review_id) WHERE status = 'open'",
    "idx_reports_resolved": "ON reports (resolved_at DESC) WHERE status = 'resolved'",
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reports", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def add():
        await run_statements(*(f"ALTER TABLE reports ADD CONSTRAINT {name} {check}" for name, check in CHECKS.items()))
        for name, definition in INDEXES.items():
            await create_index_concurrently(name, definition)

    async def remove():
        await drop_index_concurrently(*INDEXES)
        await run_statements(*(f"ALTER TABLE reports DROP CONSTRAINT IF EXISTS {name}" for name in CHECKS))

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
