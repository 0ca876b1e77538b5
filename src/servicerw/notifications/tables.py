from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

STATUSES = ("pending", "sending", "sent", "dead")


class EmailMessage(Table, tablename="email_outbox"):
    """The outbox: every email is a row written in the same transaction as what caused it, sent later by
    the worker (notifications/services.py). `send_after` is when the row may be claimed next: for a pending
    row its (re)try time, for a sending row the end of its worker's lease. The partial index on it for
    pending/sending rows (raw migration) serves the claim; sent rows are the bulk of the table."""

    to_address = Varchar(length=254)
    subject = Varchar(length=200)
    body_text = Text()
    body_html = Text(default="")
    language = Varchar(length=2, default="rw")
    kind = Varchar(length=40, default="")
    status = Varchar(length=12, default="pending")
    attempts = Integer(default=0)
    idempotency_key = UUID(default=UUID4(), unique=True)
    # The provider that accepted the email, or the last one tried when it has not been sent.
    provider = Varchar(length=20, default="")
    provider_message_id = Varchar(length=200, default="")
    last_error = Text(default="")
    send_after = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    last_attempt_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
