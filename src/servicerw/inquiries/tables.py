from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.businesses.tables import Business

STATUSES = ("new", "read", "replied", "closed")


class CustomerInquiry(Table, tablename="customer_inquiries"):
    business = ForeignKey(Business, db_column_name="business_id")
    customer_name = Varchar(length=120)
    customer_phone = Varchar(length=20, default="")
    customer_email = Varchar(length=254, default="")
    message = Text()
    preferred_contact = Varchar(length=12, default="phone")
    language = Varchar(length=2, default="rw")
    status = Varchar(length=12, default="new")
    idempotency_key = UUID(null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    replied_at = Timestamptz(null=True, default=None)
    # The owner's reply as sent from the dashboard (the latest one).
    reply_text = Text(default="")
