"""Platform statistics for operators, by district and category, for any range of Kigali days.

Businesses (by status, by month with month-over-month growth) are counted straight from `businesses`
(20,000 rows at the plan's volume, and their status changes). Everything else — new users, inquiries,
reviews, the funnel, top and zero-result searches — reads the daily rollups kept by the rollup worker
(`rollup.py`): a range of days is an index range of a few hundred rows whatever the volume behind it.
Results are cached 5 minutes (the plan's analytics TTL) under the filters and the language.

Filters come in as text and are checked here (`filters()`): dates in ISO form, from ≤ to, at most
MAX_DAYS days, known district and category slugs; anything else is a FormErrors with status 400 and a
message per field, which the pages show above the figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from servicerw.catalog.services import CatalogService
from servicerw.core import db, i18n
from servicerw.core.cache import Cache, digest
from servicerw.core.forms import FormErrors
from servicerw.core.replicas import lag_tolerant
from servicerw.insights.rollup import EVENT_METRICS, kigali_midnight, kigali_today

STATS_TTL = 5 * 60  # the plan's analytics TTL
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years (one of them a leap year)
TOP_SEARCHES = 50
CONTACT_METRICS = ("call_click", "whatsapp_click", "website_click", "email_click")
BUSINESS_STATUSES = ("approved", "pending", "rejected", "suspended")


class Filters(msgspec.Struct, frozen=True):
    start: date
    end: date
    district: str = ""  # slug, "" = all
    category: str = ""  # slug, "" = all
    district_id: int = 0  # 0 = all (the rollups' "all")
    category_ids: tuple[int, ...] = ()  # the category and its sub-categories; () = all
    category_slugs: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def query(self, **changes: str) -> dict[str, str]:
        """The filters as URL query parameters (for links and the CSV exports)."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "district": self.district,
            "category": self.category,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}

    def key(self) -> str:
        return digest(self.start, self.end, self.district, self.category)


class StatusCount(msgspec.Struct, frozen=True):
    status: str
    in_period: int  # created in the period, by their status now
    total: int  # all time


class MonthCount(msgspec.Struct, frozen=True):
    month: date  # first day
    created: int
    approved: int  # of those, approved now
    growth: float | None  # created vs the month before; None when that month had none


class BusinessStats(msgspec.Struct, frozen=True):
    statuses: list[StatusCount]
    months: list[MonthCount]


class DayActivity(msgspec.Struct, frozen=True):
    day: date  # the day, or the first day of a month
    users: int
    inquiries: int
    reviews: int


class ActivityStats(msgspec.Struct, frozen=True):
    days: list[DayActivity]
    months: list[DayActivity]
    unrolled: int  # days of the period the rollup worker has not reached yet


class FunnelStep(msgspec.Struct, frozen=True):
    key: str  # search | search_impression | profile_view | contact | inquiry
    count: int
    rate: float | None  # of the step before (searches -> views, views -> taps, views -> inquiries)


class Funnel(msgspec.Struct, frozen=True):
    steps: list[FunnelStep]
    contacts: list[tuple[str, int]]  # the contact taps by kind
    unrolled: int


class SearchCount(msgspec.Struct, frozen=True):
    query: str
    searches: int
    zero_results: int


class SearchStats(msgspec.Struct, frozen=True):
    top: list[SearchCount]
    zero: list[SearchCount]
    unrolled: int


def _rate(count: int, base: int) -> float | None:
    return None if base == 0 else count / base


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _parse_day(raw: str, field: str, errors: dict[str, str]) -> date | None:
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = i18n.gettext("Enter a date as YYYY-MM-DD, for example %(example)s.", example="2026-01-31")
        return None


# The filters of the search pages' rollup rows for "no district/category filter" (see rollup.py).
ALL = "*"

DAILY_SQL = """
SELECT day, metric, n FROM insights_daily
WHERE district_id = $1 AND category_id = ANY($2::int[]) AND metric = ANY($3::text[]) AND day BETWEEN $4 AND $5
UNION ALL
SELECT day, metric, n FROM insights_daily
WHERE district_id = 0 AND category_id = 0 AND metric = 'user' AND day BETWEEN $4 AND $5
"""

TOTALS_SQL = """
SELECT metric, sum(n)::bigint AS n FROM insights_daily
WHERE district_id = $1 AND category_id = ANY($2::int[]) AND metric = ANY($3::text[]) AND day BETWEEN $4 AND $5
GROUP BY metric
"""

# Whole months of the period from the monthly rollup ($6 ≤ month < $7), the other days from the daily one.
SEARCHES_SQL = """
WITH counted AS (
    SELECT query, searches, zero_results FROM insights_search_monthly
    WHERE district = $1 AND category = ANY($2::text[]) AND month >= $6 AND month < $7
    UNION ALL  -- the days before the first whole month, and those after the last one
    SELECT query, searches, zero_results FROM insights_search_daily
    WHERE district = $1 AND category = ANY($2::text[]) AND day >= $3::date AND day < least($6::date, $4::date + 1)
    UNION ALL
    SELECT query, searches, zero_results FROM insights_search_daily
    WHERE district = $1 AND category = ANY($2::text[]) AND day >= greatest($7::date, $3::date) AND day <= $4::date
), grouped AS MATERIALIZED (
    SELECT query, sum(searches)::bigint AS searches, sum(zero_results)::bigint AS zero_results
    FROM counted
    GROUP BY query
)
(SELECT 'top' AS list, * FROM grouped ORDER BY searches DESC, query LIMIT $5)
UNION ALL
(SELECT 'zero', * FROM grouped WHERE zero_results > 0 ORDER BY zero_results DESC, query LIMIT $5)
"""

UNROLLED_SQL = """
SELECT count(*) FROM generate_series($1::date, $2::date, interval '1 day') AS d
WHERE NOT EXISTS (SELECT 1 FROM insights_rolled_days r WHERE r.day = d::date)
"""

# $1/$2 the period's Kigali instants, $3 district id (0 = all), $4 category ids ({} = all).
_PLACE = """
FROM businesses b LEFT JOIN locations l ON l.id = b.location_id
WHERE ($3::int = 0 OR l.district_id = $3) AND (cardinality($4::int[]) = 0 OR b.category_id = ANY($4::int[]))
"""
STATUS_SQL = f"""
SELECT b.status, count(*) FILTER (WHERE b.created_at >= $1 AND b.created_at < $2) AS in_period, count(*) AS total
{_PLACE}
GROUP BY b.status
"""
MONTHS_SQL = f"""
SELECT date_trunc('month', b.created_at AT TIME ZONE 'Africa/Kigali')::date AS month, count(*) AS created,
       count(*) FILTER (WHERE b.status = 'approved') AS approved
{_PLACE} AND b.created_at >= $1 AND b.created_at < $2
GROUP BY 1
"""


class InsightsService:
    """Read-only statistics; needs the catalog (district and category slugs) and the cache."""

    def __init__(self, catalog: CatalogService, cache: Cache) -> None:
        self.catalog = catalog
        self.cache = cache

    # --- input ------------------------------------------------------------------------------------

    async def filters(
        self, start: str = "", end: str = "", district: str = "", category: str = "", today: date | None = None
    ) -> Filters:
        """Checked filters; FormErrors(status=400) with a message per wrong field."""
        today = today or kigali_today()
        errors: dict[str, str] = {}
        last = _parse_day(end, "to", errors) if end else today
        first = _parse_day(start, "from", errors) if start else None
        if first is None and "from" not in errors:
            first = (last or today) - timedelta(days=DEFAULT_DAYS - 1)
        if first and last and not errors:
            if first > last:
                errors["from"] = i18n.gettext("The first day must not be after the last day.")
            elif (last - first).days + 1 > MAX_DAYS:
                errors["from"] = i18n.gettext("Choose at most %(days)d days (two years) at a time.", days=MAX_DAYS)
        await self.catalog.ensure_loaded()
        district_id = 0
        if district:
            place = self.catalog.place_slugs.get(district)
            if place is None or place.level != "district":
                errors["district"] = i18n.gettext("Unknown district.")
            else:
                district_id = place.id
        category_ids: tuple[int, ...] = ()
        category_slugs: tuple[str, ...] = ()
        if category:
            ids = self.catalog.category_ids(category)
            if ids is None:
                errors["category"] = i18n.gettext("Unknown category.")
            else:
                category_ids = tuple(ids)
                category_slugs = tuple(self.catalog.categories[i].slug for i in ids)
        if errors:
            raise FormErrors(errors, status=400)
        assert first is not None and last is not None
        return Filters(
            start=first,
            end=last,
            district=district,
            category=category,
            district_id=district_id,
            category_ids=category_ids,
            category_slugs=category_slugs,
        )

    async def choices(self, lang: str) -> dict[str, list[tuple[str, str]]]:
        """(slug, name) of the districts and of the categories (top ones, each followed by its own)."""
        await self.catalog.ensure_loaded()
        categories = []
        for top in self.catalog.top_categories():
            categories.append((top.slug, top.name(lang)))
            categories.extend((c.slug, f"— {c.name(lang)}") for c in top.children)
        return {"districts": [(d.slug, d.name) for d in self.catalog.districts()], "categories": categories}

    # --- cached reads ------------------------------------------------------------------------------

    async def _cached(self, name: str, filters: Filters, lang: str, load, kind):
        key = f"insights:{name}:{lang}:{filters.key()}"

        async def loader():
            return msgspec.to_builtins(await load(filters))

        value, _hit = await self.cache.get_or_load(key, STATS_TTL, loader)
        return msgspec.convert(value, kind)

    @lag_tolerant
    async def businesses(self, filters: Filters, lang: str) -> BusinessStats:
        return await self._cached("businesses", filters, lang, self._businesses, BusinessStats)

    @lag_tolerant
    async def activity(self, filters: Filters, lang: str) -> ActivityStats:
        return await self._cached("activity", filters, lang, self._activity, ActivityStats)

    @lag_tolerant
    async def funnel(self, filters: Filters, lang: str) -> Funnel:
        return await self._cached("funnel", filters, lang, self._funnel, Funnel)

    @lag_tolerant
    async def searches(self, filters: Filters, lang: str) -> SearchStats:
        return await self._cached("searches", filters, lang, self._searches, SearchStats)

    # --- queries -----------------------------------------------------------------------------------

    def _category_ids(self, filters: Filters) -> list[int]:
        return list(filters.category_ids) or [0]

    async def _unrolled(self, filters: Filters) -> int:
        row = await db.fetchrow(UNROLLED_SQL, filters.start, filters.end)
        return row[0] if row else 0

    async def _businesses(self, filters: Filters) -> BusinessStats:
        start, end = kigali_midnight(filters.start), kigali_midnight(filters.end + timedelta(days=1))
        ids = list(filters.category_ids)
        by_status = {r["status"]: r for r in await db.fetch(STATUS_SQL, start, end, filters.district_id, ids)}
        statuses = [
            StatusCount(
                s, by_status[s]["in_period"] if s in by_status else 0, by_status[s]["total"] if s in by_status else 0
            )
            for s in (*BUSINESS_STATUSES, *sorted(set(by_status) - set(BUSINESS_STATUSES)))
        ]
        # Months touched by the period, and the one before the first (for its growth).
        first_month = month_start(filters.start)
        since = previous_month(first_month)
        until = kigali_midnight(next_month(filters.end))  # whole months: growth compares like with like
        rows = await db.fetch(MONTHS_SQL, kigali_midnight(since), until, filters.district_id, ids)
        counts = {r["month"]: r for r in rows}
        months: list[MonthCount] = []
        month, before = first_month, counts.get(since)
        previous = before["created"] if before else 0
        while month <= filters.end:
            row = counts.get(month)
            created = row["created"] if row else 0
            months.append(
                MonthCount(
                    month=month,
                    created=created,
                    approved=row["approved"] if row else 0,
                    growth=_rate(created - previous, previous),
                )
            )
            previous = created
            month = next_month(month)
        return BusinessStats(statuses=statuses, months=months)

    async def _activity(self, filters: Filters) -> ActivityStats:
        rows = await db.fetch(
            DAILY_SQL,
            filters.district_id,
            self._category_ids(filters),
            ["inquiry", "review"],
            filters.start,
            filters.end,
        )
        per_day: dict[date, dict[str, int]] = {}
        for r in rows:  # several categories (a top category and its own) add up
            values = per_day.setdefault(r["day"], {})
            values[r["metric"]] = values.get(r["metric"], 0) + r["n"]
        days, months = [], {}
        for i in range(filters.days):
            day = filters.start + timedelta(days=i)
            values = per_day.get(day, {})
            entry = DayActivity(day, values.get("user", 0), values.get("inquiry", 0), values.get("review", 0))
            days.append(entry)
            m = months.setdefault(month_start(day), [0, 0, 0])
            m[0] += entry.users
            m[1] += entry.inquiries
            m[2] += entry.reviews
        return ActivityStats(
            days=days,
            months=[DayActivity(m, *v) for m, v in months.items()],
            unrolled=await self._unrolled(filters),
        )

    async def _funnel(self, filters: Filters) -> Funnel:
        metrics = ["search", *EVENT_METRICS, "inquiry"]
        rows = await db.fetch(
            TOTALS_SQL, filters.district_id, self._category_ids(filters), metrics, filters.start, filters.end
        )
        n = {r["metric"]: r["n"] for r in rows}
        searches, impressions, views = n.get("search", 0), n.get("search_impression", 0), n.get("profile_view", 0)
        contacts = sum(n.get(m, 0) for m in CONTACT_METRICS)
        inquiries = n.get("inquiry", 0)
        steps = [
            FunnelStep("search", searches, None),
            FunnelStep("search_impression", impressions, None),
            FunnelStep("profile_view", views, _rate(views, searches)),
            FunnelStep("contact", contacts, _rate(contacts, views)),
            FunnelStep("inquiry", inquiries, _rate(inquiries, views)),
        ]
        return Funnel(
            steps=steps,
            contacts=[(m, n.get(m, 0)) for m in CONTACT_METRICS],
            unrolled=await self._unrolled(filters),
        )

    async def _searches(self, filters: Filters) -> SearchStats:
        # The whole months inside the period: [first, after) (empty when first >= after).
        first = filters.start if filters.start.day == 1 else next_month(filters.start)
        after = month_start(filters.end + timedelta(days=1))
        rows = await db.fetch(
            SEARCHES_SQL,
            filters.district or ALL,
            list(filters.category_slugs) or [ALL],
            filters.start,
            filters.end,
            TOP_SEARCHES,
            first,
            max(first, after),
        )
        top = [SearchCount(r["query"], r["searches"], r["zero_results"]) for r in rows if r["list"] == "top"]
        zero = [SearchCount(r["query"], r["searches"], r["zero_results"]) for r in rows if r["list"] == "zero"]
        return SearchStats(top=top, zero=zero, unrolled=await self._unrolled(filters))
