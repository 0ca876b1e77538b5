"""Claims: known statuses and proofs, one pending claim per user per business, and the operators' queue
(pending, oldest first). The table is new (empty): plain index builds, in the migration's transaction."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-01T14:43:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "claim checks and indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="claims", description=DESCRIPTION)

    async def add():
        await run_statements(
            """ALTER TABLE business_claims ADD CONSTRAINT business_claims_status_check
               CHECK (status IN ('pending', 'approved', 'rejected', 'undone'))""",
            """ALTER TABLE business_claims ADD CONSTRAINT business_claims_proof_check
               CHECK (proof IN ('email', 'operator'))""",
            """CREATE UNIQUE INDEX IF NOT EXISTS idx_business_claims_one_pending
               ON business_claims (business_id, user_id) WHERE status = 'pending'""",
            "CREATE INDEX IF NOT EXISTS idx_business_claims_queue ON business_claims (created_at) WHERE status = 'pending'",
        )

    async def remove():
        await run_statements(
            "DROP INDEX IF EXISTS idx_business_claims_queue",
            "DROP INDEX IF EXISTS idx_business_claims_one_pending",
            "ALTER TABLE business_claims DROP CONSTRAINT IF EXISTS business_claims_proof_check",
            "ALTER TABLE business_claims DROP CONSTRAINT IF EXISTS business_claims_status_check",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
