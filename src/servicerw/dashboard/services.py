"""The numbers behind the owner's dashboard, straight from `business_analytics` and `customer_inquiries`.

One query returns the whole window (the period and the previous period of the same length) as one row of
per-day arrays: the events grouped by (date, event_type) through `idx_business_analytics_aggregation`
(only the month partitions of the window are read), the inquiries counted by their Kigali day, and every
day of the window present (zeros included) thanks to generate_series.

Days are Rwanda days (Africa/Kigali, UTC+2 all year): `business_analytics.date` is already written in
Kigali time, and inquiries are counted by `created_at` converted to Kigali time. Inquiries come from
`customer_inquiries` (the truth: a row per message received), not from `inquiry` events, which are ignored.
The period ends today (still counting) and starts `days - 1` days before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from servicerw.analytics.tables import EVENT_TYPES
from servicerw.core import db
from servicerw.core.replicas import lag_tolerant
from servicerw.core.web import KIGALI

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
METRICS = EVENT_TYPES  # the analytics event types, in the order the dashboard shows them
EVENT_METRICS = METRICS[:-1]  # the ones counted in business_analytics; inquiries come from their own table

# Built from the fixed metric names above (no outside input).
_PER_DAY = ",\n           ".join(f"coalesce(sum(n) FILTER (WHERE kind = '{m}'), 0)::int AS {m}" for m in METRICS)
_PIVOT = ",\n       ".join(f"array_agg({m} ORDER BY i) AS {m}" for m in METRICS)

# $1 business id, $2 first day, $3 last day, $4/$5 the same days as Kigali instants [start, end),
# $6 the event types counted.
STATS_SQL = f"""
WITH counts AS (
    SELECT date AS day, event_type AS kind, count(*) AS n
    FROM business_analytics
    WHERE business_id = $1 AND date BETWEEN $2 AND $3 AND event_type = ANY($6::text[])
    GROUP BY date, event_type
    UNION ALL
    SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date, 'inquiry', count(*)
    FROM customer_inquiries
    WHERE business_id = $1 AND created_at >= $4 AND created_at < $5
    GROUP BY 1
), per_day AS (
    SELECT i,
           {_PER_DAY}
    FROM generate_series(0, $3::date - $2::date) AS i
    LEFT JOIN counts ON counts.day = $2::date + i
    GROUP BY i
)
SELECT {_PIVOT}
FROM per_day
"""


def kigali_today(now: datetime | None = None) -> date:
    return (now or datetime.now(KIGALI)).astimezone(KIGALI).date()


def kigali_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), KIGALI)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    daily: tuple[int, ...]  # one value per day of the period, oldest first
    previous_daily: tuple[int, ...]  # the previous period, same length

    @property
    def total(self) -> int:
        return sum(self.daily)

    @property
    def previous(self) -> int:
        return sum(self.previous_daily)

    @property
    def change(self) -> float | None:
        """(total - previous) / previous; None when there is nothing to compare with (previous = 0)."""
        previous = self.previous
        return None if previous == 0 else (self.total - previous) / previous


@dataclass(frozen=True, slots=True)
class Stats:
    days: int
    start: date
    end: date
    metrics: tuple[Metric, ...]

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)


def period(days: int, today: date) -> tuple[date, date]:
    """First and last day of the period ending today."""
    return today - timedelta(days=days - 1), today


class DashboardService:
    """Read-only; needs nothing but the database pool."""

    @lag_tolerant
    async def stats(self, business_id: int, days: int, today: date | None = None) -> Stats:
        if days not in PERIODS:
            raise ValueError(f"days must be one of {PERIODS}")
        start, end = period(days, today or kigali_today())
        first = start - timedelta(days=days)  # the previous period comes first in the arrays
        # The pool's connections already run without parallel workers or JIT (settings.py): for this small,
        # bounded work, starting workers cost more than the query.
        row = await db.fetchrow(
            STATS_SQL,
            business_id,
            first,
            end,
            kigali_midnight(first),
            kigali_midnight(end + timedelta(days=1)),
            list(EVENT_METRICS),
        )
        metrics = []
        for key in METRICS:
            values = tuple(row[key])
            metrics.append(Metric(key=key, daily=values[days:], previous_daily=values[:days]))
        return Stats(days=days, start=start, end=end, metrics=tuple(metrics))
