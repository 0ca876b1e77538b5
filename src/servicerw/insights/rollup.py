"""Daily rollups behind the platform statistics, kept by one worker at a time (advisory lock).

For each Kigali day: `insights_daily` counts analytics events (by type), customer inquiries, reviews,
first-page searches and new users, by district and category (0 = all, see tables.py), and
`insights_search_daily` counts searches per normalised query text by the searches' own filters
(`insights_search_monthly` sums them by month, for long periods).
Rolling days [first, last] deletes their rows and inserts them again in one transaction, so a roll is
idempotent and a reader never sees a half-rolled day. `insights_rolled_days` remembers when each day
was rolled; a day rolled after it ended (plus GRACE, for the analytics buffer) is final and is not
rolled again. The worker catches up on the oldest unfinished days, a month per statement, then
refreshes today (still counting) every `every` seconds.

Detached analytics partitions (retention) do not change the rolled days: their figures stay.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import asyncpg

from servicerw.analytics.tables import EVENT_TYPES
from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.core.web import KIGALI

ROLLUP_LOCK = 0x5E7A_0002  # advisory lock key of the rollup
CHUNK_DAYS = 31  # days rolled per statement while catching up (one scan of a month partition)
GRACE = timedelta(minutes=5)  # a day is final when rolled this long after its end
EVENT_METRICS = tuple(t for t in EVENT_TYPES if t != "inquiry")  # inquiries come from their own table

# $1 first day, $2 last day, $3/$4 Kigali midnight of the first day / of the day after the last.
ROLL_PLACED = """
WITH facts AS (
    SELECT a.date AS day, a.event_type::text AS metric, a.business_id, count(*) AS n
    FROM business_analytics a
    WHERE a.date BETWEEN $1 AND $2 AND a.event_type = ANY($5::text[])
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT (i.created_at AT TIME ZONE 'Africa/Kigali')::date, 'inquiry', i.business_id, count(*)
    FROM customer_inquiries i WHERE i.created_at >= $3 AND i.created_at < $4
    GROUP BY 1, 3
    UNION ALL
    SELECT (r.created_at AT TIME ZONE 'Africa/Kigali')::date, 'review', r.business_id, count(*)
    FROM reviews r WHERE r.created_at >= $3 AND r.created_at < $4
    GROUP BY 1, 3
), placed AS (
    SELECT f.day, f.metric, coalesce(l.district_id, -1) AS district_id, b.category_id, f.n
    FROM facts f
    JOIN businesses b ON b.id = f.business_id
    LEFT JOIN locations l ON l.id = b.location_id
    UNION ALL
    SELECT (s.created_at AT TIME ZONE 'Africa/Kigali')::date, 'search', coalesce(d.id, -1), coalesce(c.id, -1), 1
    FROM search_queries s
    LEFT JOIN locations d ON d.slug = s.filters->>'district' AND d.level = 'district'
    LEFT JOIN categories c ON c.slug = s.filters->>'category'
    WHERE s.created_at >= $3 AND s.created_at < $4 AND s.page = 1
)
INSERT INTO insights_daily (day, metric, district_id, category_id, n)
SELECT day, metric,
       CASE WHEN grouping(district_id) = 1 THEN 0 ELSE district_id END,
       CASE WHEN grouping(category_id) = 1 THEN 0 ELSE category_id END,
       sum(n)
FROM placed
GROUP BY GROUPING SETS ((day, metric), (day, metric, district_id), (day, metric, category_id),
                        (day, metric, district_id, category_id))
"""

ROLL_USERS = """
INSERT INTO insights_daily (day, metric, district_id, category_id, n)
SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date, 'user', 0, 0, count(*)
FROM users WHERE created_at >= $1 AND created_at < $2
GROUP BY 1
"""

ROLL_SEARCHES = """
WITH s AS (
    SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date AS day,
           left(lower(regexp_replace(btrim(query), '\\s+', ' ', 'g')), 200) AS query,
           coalesce(filters->>'district', '') AS district,
           coalesce(filters->>'category', '') AS category,
           zero_results
    FROM search_queries
    WHERE created_at >= $1 AND created_at < $2 AND page = 1 AND btrim(query) <> ''
)
INSERT INTO insights_search_daily (day, query, district, category, searches, zero_results)
SELECT day, query,
       CASE WHEN grouping(district) = 1 THEN '*' ELSE left(district, 160) END,
       CASE WHEN grouping(category) = 1 THEN '*' ELSE left(category, 80) END,
       count(*), count(*) FILTER (WHERE zero_results)
FROM s
GROUP BY GROUPING SETS ((day, query), (day, query, district), (day, query, category),
                        (day, query, district, category))
"""


ROLL_SEARCH_MONTHS = """
INSERT INTO insights_search_monthly (month, query, district, category, searches, zero_results)
SELECT date_trunc('month', day)::date, query, district, category, sum(searches), sum(zero_results)
FROM insights_search_daily
WHERE day >= $1 AND day < $2
GROUP BY 1, 2, 3, 4
"""


def kigali_today(now: datetime | None = None) -> date:
    return (now or datetime.now(KIGALI)).astimezone(KIGALI).date()


def kigali_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), KIGALI)


async def roll_days(conn: asyncpg.Connection, first: date, last: date) -> int:
    """Roll up the days [first, last] (replacing what was there) in the caller's transaction; returns
    how many days."""
    start, end = kigali_midnight(first), kigali_midnight(last + timedelta(days=1))
    await conn.execute("DELETE FROM insights_daily WHERE day BETWEEN $1 AND $2", first, last)
    await conn.execute("DELETE FROM insights_search_daily WHERE day BETWEEN $1 AND $2", first, last)
    await conn.execute(ROLL_PLACED, first, last, start, end, list(EVENT_METRICS))
    await conn.execute(ROLL_USERS, start, end)
    await conn.execute(ROLL_SEARCHES, start, end)
    # The months these days belong to, summed again from their days.
    first_month = first.replace(day=1)
    after_last = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    await conn.execute("DELETE FROM insights_search_monthly WHERE month >= $1 AND month < $2", first_month, after_last)
    await conn.execute(ROLL_SEARCH_MONTHS, first_month, after_last)
    await conn.execute(
        """INSERT INTO insights_rolled_days (day, rolled_at)
           SELECT d::date, now() FROM generate_series($1::date, $2::date, interval '1 day') AS d
           ON CONFLICT (day) DO UPDATE SET rolled_at = EXCLUDED.rolled_at""",
        first,
        last,
    )
    return (last - first).days + 1


async def first_day(conn: asyncpg.Connection, today: date) -> date:
    """The first day with anything to count: nothing (events, inquiries, reviews) predates the oldest
    business, and searches and users have their own dates."""
    oldest = await conn.fetchval(
        """SELECT least((SELECT min(created_at) FROM businesses), (SELECT min(created_at) FROM users),
                        (SELECT min(created_at) FROM search_queries))"""
    )
    return today if oldest is None else min(today, oldest.astimezone(KIGALI).date())


async def next_unfinished(conn: asyncpg.Connection, first: date, last: date) -> date | None:
    """The oldest day of [first, last] that is not final."""
    return await conn.fetchval(
        """SELECT d::date FROM generate_series($1::date, $2::date, interval '1 day') AS d
           WHERE NOT EXISTS (SELECT 1 FROM insights_rolled_days r
                             WHERE r.day = d::date
                               AND r.rolled_at >= (d::date + 1)::timestamp AT TIME ZONE 'Africa/Kigali' + $3::interval)
           ORDER BY d LIMIT 1""",
        first,
        last,
        GRACE,
    )


async def catch_up(conn: asyncpg.Connection, today: date | None = None, chunk: int = CHUNK_DAYS) -> int | None:
    """One step of the rollup: the oldest unfinished days (up to `chunk` of them, before today), or,
    when every finished day is final, today. Returns the days rolled before today (0 = caught up), or
    None when another process holds the lock."""
    today = today or kigali_today()
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", ROLLUP_LOCK):
            return None
        start = await first_day(conn, today)
        pending = await next_unfinished(conn, start, today - timedelta(days=1)) if start < today else None
        if pending is not None:
            return await roll_days(conn, pending, min(pending + timedelta(days=chunk - 1), today - timedelta(days=1)))
        await roll_days(conn, today, today)
        return 0


def rollup_worker(every: float = 300.0) -> PollingWorker:
    """Catches up day ranges back to back, then refreshes today every `every` seconds."""

    async def work() -> int:
        async with db.engine().pool.acquire() as conn:
            return await catch_up(conn) or 0

    return PollingWorker("insights_rollup", work, every=every)
