from piccolo.columns import BigSerial, Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class DailyCount(Table, tablename="insights_daily"):
    """How many of `metric` happened on a Kigali `day`, by district and category of the business (the
    search's filters for `search`). 0 stands for "all": each day has a row for all districts and
    categories, one per district, one per category and one per (district, category) that had any.
    -1 is "none" (a search without that filter). Unique on (district_id, category_id, metric, day)."""

    id = BigSerial(primary_key=True)
    day = Date()
    metric = Varchar(length=24)
    district_id = Integer(default=0)
    category_id = Integer(default=0)
    n = Integer(default=0)


class SearchDay(Table, tablename="insights_search_daily"):
    """First-page searches of a Kigali day per normalised query text, by the search's district and
    category filters ('*' = all, '' = no such filter), with how many found nothing."""

    id = BigSerial(primary_key=True)
    day = Date()
    query = Varchar(length=200)
    district = Varchar(length=160, default="*")
    category = Varchar(length=80, default="*")
    searches = Integer(default=0)
    zero_results = Integer(default=0)


class SearchMonth(Table, tablename="insights_search_monthly"):
    """The same by calendar month (`month` = its first day), summed from the days: long periods read
    whole months here and only their partial first and last months from the days."""

    id = BigSerial(primary_key=True)
    month = Date()
    query = Varchar(length=200)
    district = Varchar(length=160, default="*")
    category = Varchar(length=80, default="*")
    searches = Integer(default=0)
    zero_results = Integer(default=0)


class RolledDay(Table, tablename="insights_rolled_days"):
    """When each day was last rolled up; a day rolled after it ended (plus a grace period) is final."""

    id = BigSerial(primary_key=True)
    day = Date(unique=True)
    rolled_at = Timestamptz(default=TimestamptzNow())
