"""SMS alerts for owners: SMS rows share the email outbox (a `channel` column; the same worker, claim,
retries and providers' failover), with the delivery report the provider sends back later; `sms_phones`
holds each owner's phone number, its verification code (hashed) and the alert settings."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "SMS channel in the outbox, owners' phone numbers"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add():
        await run_statements(
            """ALTER TABLE email_outbox
                   ADD COLUMN IF NOT EXISTS channel varchar(5) NOT NULL DEFAULT 'email',
                   ADD COLUMN IF NOT EXISTS delivery_status varchar(12) NOT NULL DEFAULT '',
                   ADD COLUMN IF NOT EXISTS delivered_at timestamptz NULL""",
            """ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_channel_check
                   CHECK (channel IN ('email', 'sms'))""",
            # Delivery reports find their message by the provider's id.
            """CREATE INDEX IF NOT EXISTS idx_email_outbox_sms_message ON email_outbox (provider_message_id)
                   WHERE channel = 'sms' AND provider_message_id <> ''""",
            # The daily cap counts an owner's alerts of the day.
            """CREATE INDEX IF NOT EXISTS idx_email_outbox_sms_to ON email_outbox (to_address, created_at)
                   WHERE channel = 'sms'""",
            """CREATE TABLE IF NOT EXISTS sms_phones (
                   user_id integer PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                   phone varchar(13) NOT NULL DEFAULT '',          -- the verified number, +2507XXXXXXXX
                   verified_at timestamptz NULL,
                   alerts boolean NOT NULL DEFAULT false,         -- "text me when a customer sends a message"
                   stopped_at timestamptz NULL,                    -- turned off by an opt-out word (STOP...)
                   pending_phone varchar(13) NOT NULL DEFAULT '',  -- the number being verified
                   code_hash varchar(64) NOT NULL DEFAULT '',
                   code_expires_at timestamptz NULL,
                   code_attempts integer NOT NULL DEFAULT 0,
                   code_sent_at timestamptz NULL,
                   code_window_start timestamptz NULL,
                   code_sends integer NOT NULL DEFAULT 0,          -- codes sent since code_window_start
                   last_alert_at timestamptz NULL,                 -- when the latest alert was (or will be) sent
                   pending_alert_id integer NULL,                  -- the alert still waiting in the outbox
                   pending_count integer NOT NULL DEFAULT 0        -- messages it announces
               )""",
            "CREATE INDEX IF NOT EXISTS idx_sms_phones_phone ON sms_phones (phone) WHERE phone <> ''",
        )

    async def remove():
        await run_statements(
            "DROP TABLE IF EXISTS sms_phones",
            "DROP INDEX IF EXISTS idx_email_outbox_sms_to",
            "DROP INDEX IF EXISTS idx_email_outbox_sms_message",
            "ALTER TABLE email_outbox DROP CONSTRAINT IF EXISTS email_outbox_channel_check",
            """ALTER TABLE email_outbox DROP COLUMN IF EXISTS channel, DROP COLUMN IF EXISTS delivery_status,
                   DROP COLUMN IF EXISTS delivered_at""",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
