"""Real-user vitals (analytics/rum.py): how many beacons of a Kigali `day` reported a value of `metric`
(lcp, inp, cls, ttfb) in histogram `bucket` (an index into the metric's fixed bounds in rum.py) on a page
type (home, search, profile, browse, other). Aggregate counters only: no person, address or user agent.
Writers upsert `count = count + excluded.count`."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-02T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rum_daily: real-user vitals histograms"

CREATE = """
CREATE TABLE IF NOT EXISTS rum_daily (
    day date NOT NULL,
    page varchar(16) NOT NULL CHECK (page IN ('home', 'search', 'profile', 'browse', 'other')),
    metric varchar(8) NOT NULL CHECK (metric IN ('lcp', 'inp', 'cls', 'ttfb')),
    bucket smallint NOT NULL CHECK (bucket BETWEEN 0 AND 63),
    count bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (day, page, metric, bucket)
)
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def add():
        await run_statements(CREATE)

    async def remove():
        await run_statements("DROP TABLE IF EXISTS rum_daily")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
