"""The audit log is read newest first, by target (a business's history), by operator and by action."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core import db

ID = "2026-12-01T14:38:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit log indexes"

INDEXES = {
    "idx_audit_log_created": "ON audit_log (created_at DESC)",
    "idx_audit_log_target": "ON audit_log (target_type, target_id, created_at DESC)",
    "idx_audit_log_actor": "ON audit_log (actor_id, created_at DESC)",
    "idx_audit_log_action": "ON audit_log (action, created_at DESC)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="admin", description=DESCRIPTION)

    async def add():
        for name, definition in INDEXES.items():
            await db.engine().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} {definition}")

    async def remove():
        for name in INDEXES:
            await db.engine().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
