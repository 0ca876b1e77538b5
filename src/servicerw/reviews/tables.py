from piccolo.columns import ForeignKey, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User
from servicerw.businesses.tables import Business

STATUSES = ("pending", "approved", "rejected", "hidden")  # hidden: published, then removed after a report


class Review(Table, tablename="reviews"):
    business = ForeignKey(Business, db_column_name="business_id")
    user = ForeignKey(User, db_column_name="user_id", index=True)
    rating = SmallInt()
    body = Text(default="")
    language = Varchar(length=2, default="rw")
    status = Varchar(length=12, default="pending")
    owner_reply = Text(default="")
    owner_replied_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
