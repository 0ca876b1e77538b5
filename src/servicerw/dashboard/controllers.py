"""GET /dashboard/{id}/stats: the owner's numbers for 7, 30 or 90 days, with charts drawn on the server.

The full page includes the statistics fragment (so it works without JavaScript); the period links swap
just that fragment when htmx is there (responses vary on HX-Request). Only the business's owner or an
administrator sees it: anonymous visitors are sent to log in, anyone else gets the same 404 as for a
business that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from markupsafe import Markup

from servicerw.core import i18n
from servicerw.core.auth import OwnedBusiness
from servicerw.core.web import wants_fragment
from servicerw.dashboard.charts import format_day, format_int, line_chart
from servicerw.dashboard.services import DEFAULT_PERIOD, PERIODS, DashboardService, Metric, Stats

HEADERS = {"cache-control": "private, no-store", "vary": "HX-Request"}


def metric_labels() -> dict[str, str]:
    gettext = i18n.gettext
    return {
        "profile_view": gettext("Profile views"),
        "search_impression": gettext("Shown in search results"),
        "call_click": gettext("Call button taps"),
        "whatsapp_click": gettext("WhatsApp button taps"),
        "website_click": gettext("Website link taps"),
        "email_click": gettext("Email link taps"),
        "inquiry": gettext("Messages received"),
    }


@dataclass(frozen=True, slots=True)
class MetricView:
    key: str
    label: str
    total: str
    previous: str
    change: str  # "+12 %", "−5 %", "new", "no change"
    trend: str  # up | down | same | new | none (a CSS class)
    chart: Markup


def change_text(metric: Metric, lang: str) -> tuple[str, str]:
    ratio = metric.change
    if ratio is None:
        return (i18n.gettext("new"), "new") if metric.total else (i18n.gettext("no change"), "none")
    percent = round(ratio * 100)
    if percent == 0:
        return format_int(0, lang) + "\u00a0%", "same"
    sign = "+" if percent > 0 else "\u2212"
    return f"{sign}{format_int(abs(percent), lang)}\u00a0%", "up" if percent > 0 else "down"


def period_text(start, end, lang: str) -> str:
    first = format_day(start, lang, "MMMd" if start.year == end.year else "yMMMd")
    return f"{first} – {format_day(end, lang, 'yMMMd')}"


def present(stats: Stats, lang: str, with_charts: bool = True) -> dict:
    """Everything the fragment shows, formatted for the language. Without charts, the page shows the
    numbers at once and htmx loads the charts when the section scrolls into view."""
    gettext = i18n.gettext
    labels = metric_labels()
    dates = stats.dates
    period = period_text(stats.start, stats.end, lang)
    metrics = []
    for metric in stats.metrics:
        label = labels[metric.key]
        peak = max(metric.daily)
        if peak:
            description = gettext(
                "%(period)s: %(total)s in total; the busiest day was %(day)s with %(count)s.",
                period=period,
                total=format_int(metric.total, lang),
                day=format_day(dates[metric.daily.index(peak)], lang),
                count=format_int(peak, lang),
            )
        else:
            description = gettext("%(period)s: none yet.", period=period)
        change, trend = change_text(metric, lang)
        metrics.append(
            MetricView(
                key=metric.key,
                label=label,
                total=format_int(metric.total, lang),
                previous=format_int(metric.previous, lang),
                change=change,
                trend=trend,
                chart=Markup("")
                if not with_charts
                else line_chart(
                    metric.daily,
                    dates,
                    chart_id=f"c-{metric.key.replace('_', '-')}",
                    title=gettext("%(metric)s per day", metric=label),
                    description=description,
                    lang=lang,
                ),
            )
        )
    rows = [
        (format_day(day, lang, "MMMEd"), [format_int(m.daily[i], lang) for m in stats.metrics])
        for i, day in reversed(list(enumerate(dates)))
    ]
    return {
        "days": stats.days,
        "periods": PERIODS,
        "period": period,
        "previous_period": period_text(stats.previous_start, stats.previous_end, lang),
        "metrics": metrics,
        "rows": rows,
    }


class DashboardController(Controller):
    path = "/dashboard"
    request_class = HTMXRequest
    dependencies = {"dashboard": Provide(DashboardService, sync_to_thread=False, use_cache=True)}

    @get("/{business_id:int}/stats", name="dashboard_stats")
    async def stats(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        dashboard: NamedDependency[DashboardService],
        days: Annotated[int, QueryParameter(ge=1, le=366)] = DEFAULT_PERIOD,
        charts: Annotated[str, QueryParameter(max_length=1)] = "",
    ) -> Template:
        if days not in PERIODS:
            raise ValidationException(f"days must be one of {', '.join(map(str, PERIODS))}")
        lang = i18n.current_language()
        stats = await dashboard.stats(owned_business.id, days)
        fragment = wants_fragment(request)
        # The full page draws the numbers at once; the charts come lazily (htmx, when scrolled to) or,
        # without JavaScript, inline after a tap on "Show the charts" (?charts=1).
        with_charts = fragment or charts == "1"
        context = {"business": owned_business, "with_charts": with_charts, **present(stats, lang, with_charts)}
        if fragment:
            return Template("dashboard/_stats.html", context=context, headers=HEADERS)
        return Template("dashboard/stats.html", context=context, headers=HEADERS)


ROUTES = [DashboardController]
