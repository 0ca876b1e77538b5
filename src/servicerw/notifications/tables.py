from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

STATUSES = ("pending", "sending", "sent", "dead")


class EmailMessage(Table, tablename="email_outbox"):
    """The outbox: every email is a row written in the same transaction as what caused it.
    A worker sends pending rows (the notifications issue adds providers, retries and failover)."""

    to_address = Varchar(length=254)
    subject = Varchar(length=200)
    body_text = Text()
    body_html = Text(default="")
    language = Varchar(length=2, default="rw")
    kind = Varchar(length=40, default="")
    status = Varchar(length=12, default="pending", index=True)
    attempts = Integer(default=0)
    idempotency_key = UUID(default=UUID4(), unique=True)
    provider = Varchar(length=20, default="")
    last_error = Text(default="")
    send_after = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
