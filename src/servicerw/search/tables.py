from piccolo.columns import JSONB, BigSerial, Boolean, Integer, Real, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SearchQuery(Table, tablename="search_queries"):
    """One row per search made on the site (written in batches, off the request path)."""

    id = BigSerial(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    query = Varchar(length=200, default="")
    corrected_query = Varchar(length=200, default="")
    filters = JSONB(default={})
    result_count = Integer(default=0)
    latency_ms = Real(default=0)
    zero_results = Boolean(default=False)
    language = Varchar(length=2, default="rw")
    page = Integer(default=1)
    source = Varchar(length=12, default="page")
