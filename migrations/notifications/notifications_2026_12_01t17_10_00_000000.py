"""Wake the outbox worker on commit: a statement trigger on email_outbox sends NOTIFY email_outbox in the
transaction that writes the rows, so the notification is delivered when (and only if) it commits. The
worker LISTENs on a connection of its own; polling stays as the fallback."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-01T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "NOTIFY email_outbox when emails are queued"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add():
        await run_statements(
            """CREATE OR REPLACE FUNCTION email_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                   PERFORM pg_notify('email_outbox', '');
                   RETURN NULL;
               END $$""",
            "DROP TRIGGER IF EXISTS email_outbox_notify ON email_outbox",
            """CREATE TRIGGER email_outbox_notify AFTER INSERT ON email_outbox
               FOR EACH STATEMENT EXECUTE FUNCTION email_outbox_notify()""",
        )

    async def remove():
        await run_statements(
            "DROP TRIGGER IF EXISTS email_outbox_notify ON email_outbox",
            "DROP FUNCTION IF EXISTS email_outbox_notify()",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
