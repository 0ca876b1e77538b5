"""The statistics tables as CSV: stable English column names (for spreadsheets and scripts), ISO dates,
plain integers, ratios as decimals. Text that users typed (search queries) is defused against formula
injection: a cell starting with = + - @ or a control character gets a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from servicerw.insights.services import ActivityStats, BusinessStats, Funnel, SearchStats

TABLES = (
    "funnel",
    "businesses-by-status",
    "businesses-by-month",
    "activity-by-day",
    "activity-by-month",
    "top-searches",
    "zero-result-searches",
)


def _cell(value: object) -> object:
    if isinstance(value, str) and value and (value[0] in "=+-@" or not value[0].isprintable()):
        return "'" + value
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def funnel_csv(funnel: Funnel) -> str:
    rows = [(s.key, s.count, s.rate) for s in funnel.steps]
    rows += [(kind, count, None) for kind, count in funnel.contacts]
    return to_csv(("step", "count", "rate_of_previous"), rows)


def statuses_csv(stats: BusinessStats) -> str:
    return to_csv(
        ("status", "created_in_period", "all_time"), ((s.status, s.in_period, s.total) for s in stats.statuses)
    )


def months_csv(stats: BusinessStats) -> str:
    return to_csv(
        ("month", "created", "approved", "growth_vs_previous_month"),
        ((m.month.strftime("%Y-%m"), m.created, m.approved, m.growth) for m in stats.months),
    )


def activity_csv(stats: ActivityStats, by_month: bool = False) -> str:
    if by_month:
        rows = ((d.day.strftime("%Y-%m"), d.users, d.inquiries, d.reviews) for d in stats.months)
        return to_csv(("month", "new_users", "inquiries", "reviews"), rows)
    rows = ((d.day.isoformat(), d.users, d.inquiries, d.reviews) for d in stats.days)
    return to_csv(("day", "new_users", "inquiries", "reviews"), rows)


def searches_csv(stats: SearchStats, zero: bool = False) -> str:
    rows = stats.zero if zero else stats.top
    return to_csv(("query", "searches", "zero_result_searches"), ((r.query, r.searches, r.zero_results) for r in rows))
