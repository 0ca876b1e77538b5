from piccolo.columns import JSONB, BigSerial, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.businesses.tables import Business

EVENT_TYPES = (
    "profile_view",
    "search_impression",
    "call_click",
    "whatsapp_click",
    "website_click",
    "email_click",
    "inquiry",
)


class BusinessAnalytics(Table, tablename="business_analytics"):
    """Partitioned by month on `date` (raw migration step); primary key is (id, date)."""

    id = BigSerial(primary_key=True)
    business = ForeignKey(Business, db_column_name="business_id")
    date = Date()
    event_type = Varchar(length=24)
    source = Varchar(length=24, default="")
    metadata = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())
