from piccolo.columns import ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User
from servicerw.businesses.tables import Business
from servicerw.reviews.tables import Review

KINDS = ("business", "review")
REASONS = ("spam", "wrong_info", "offensive", "fraud", "closed", "other")
STATUSES = ("open", "resolved")
RESOLUTIONS = ("hidden", "suspended", "dismissed")


class Report(Table, tablename="reports"):
    """A visitor's report about a public listing (kind `business`) or one of its reviews (kind `review`).
    Open until an operator resolves it: the review hidden, the listing suspended, or the report dismissed."""

    kind = Varchar(length=10)
    business = ForeignKey(Business, db_column_name="business_id")
    review = ForeignKey(Review, null=True, default=None, db_column_name="review_id")
    reason = Varchar(length=20)
    details = Text(default="")
    reporter = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, db_column_name="reporter_id")
    language = Varchar(length=2, default="rw")
    status = Varchar(length=10, default="open")
    resolution = Varchar(length=12, null=True, default=None)
    resolution_note = Text(default="")
    resolved_by = ForeignKey(
        User, null=True, default=None, on_delete=OnDelete.set_null, db_column_name="resolved_by_id"
    )
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
