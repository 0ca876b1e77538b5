"""GET /admin/stats…: platform statistics for operators (404 to everyone else), each page filterable by
date range, district and category (a plain GET form, so it works without JavaScript and every view has a
shareable URL), each table downloadable as CSV. Wrong filters answer 400 with the form and its messages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from servicerw.analytics.rum import THRESHOLDS, RumService
from servicerw.core import i18n
from servicerw.core.auth import admin_only
from servicerw.core.forms import FormErrors
from servicerw.insights import exports
from servicerw.insights.services import Filters, InsightsService

NO_STORE = {"cache-control": "private, no-store"}
From = Annotated[str, QueryParameter(name="from", max_length=32)]
To = Annotated[str, QueryParameter(name="to", max_length=32)]
Slug = Annotated[str, QueryParameter(max_length=160)]
SECTIONS = ("funnel", "businesses", "activity", "searches", "vitals")


def _echo(value: str) -> str:
    """What the form shows back: printable text only (a NUL byte is reported, not echoed)."""
    return value if value.isprintable() else ""


def search_link(query: str, filters: Filters) -> str:
    params = {"q": query, "district": filters.district, "category": filters.category}
    return "/search?" + urlencode({k: v for k, v in params.items() if v})


class StatsController(Controller):
    path = "/admin/stats"
    guards = [admin_only]

    async def _page(
        self, insights: InsightsService, section: str, start: str, end: str, district: str, category: str
    ) -> tuple[Filters | None, dict, int]:
        lang = i18n.current_language()
        context: dict = {
            "section": section,
            "sections": SECTIONS,
            "choices": await insights.choices(lang),
            "form": {"from": _echo(start), "to": _echo(end), "district": _echo(district), "category": _echo(category)},
            "errors": {},
        }
        try:
            filters = await insights.filters(start, end, district, category)
        except FormErrors as error:
            context["errors"] = error.errors
            return None, context, error.status
        context["filters"] = filters
        context["form"] = {
            "from": filters.start.isoformat(),
            "to": filters.end.isoformat(),
            "district": filters.district,
            "category": filters.category,
        }
        context["query"] = urlencode(filters.query())
        return filters, context, 200

    def _render(self, context: dict, status: int) -> Template:
        return Template(f"insights/{context['section']}.html", context=context, status_code=status, headers=NO_STORE)

    @get(["/", *(f"/{section}" for section in SECTIONS[1:])], name="admin_stats")
    async def page(
        self,
        request: Request,
        insights: NamedDependency[InsightsService],
        rum_vitals: NamedDependency[RumService],
        start: From = "",
        end: To = "",
        district: Slug = "",
        category: Slug = "",
    ) -> Template:
        """`/admin/stats` (the funnel), `/admin/stats/businesses`, `/activity`, `/searches`, `/vitals` (real-user
        vitals, by date range only): one page each."""
        section = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        section = section if section in SECTIONS else "funnel"
        filters, context, status = await self._page(insights, section, start, end, district, category)
        if filters is not None and section == "vitals":
            context["vitals"] = await rum_vitals.vitals(filters.start, filters.end)
            context["thresholds"] = list(THRESHOLDS.items())
        elif filters is not None:
            load = getattr(insights, section)  # InsightsService.funnel / businesses / activity / searches
            context["funnel" if section == "funnel" else "stats"] = await load(filters, i18n.current_language())
            if section == "searches":
                context["search_link"] = search_link
        return self._render(context, status)

    @get([f"/{table}.csv" for table in exports.TABLES], name="admin_stats_csv")
    async def export(
        self,
        request: Request,
        insights: NamedDependency[InsightsService],
        start: From = "",
        end: To = "",
        district: Slug = "",
        category: Slug = "",
    ) -> Response:
        table = request.url.path.rsplit("/", 1)[-1].removesuffix(".csv")
        lang = i18n.current_language()
        try:
            filters = await insights.filters(start, end, district, category)
        except FormErrors as error:
            message = " ".join(error.errors.values())
            return Response(message, status_code=error.status, media_type=MediaType.TEXT, headers=NO_STORE)
        if table == "funnel":
            body = exports.funnel_csv(await insights.funnel(filters, lang))
        elif table.startswith("businesses-"):
            stats = await insights.businesses(filters, lang)
            body = exports.statuses_csv(stats) if table == "businesses-by-status" else exports.months_csv(stats)
        elif table.startswith("activity-"):
            body = exports.activity_csv(await insights.activity(filters, lang), by_month=table == "activity-by-month")
        else:
            body = exports.searches_csv(await insights.searches(filters, lang), zero=table == "zero-result-searches")
        parts = [table, filters.start.isoformat(), filters.end.isoformat(), filters.district, filters.category]
        filename = "servicerw-" + "-".join(p for p in parts if p) + ".csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={**NO_STORE, "content-disposition": f'attachment; filename="{filename}"'},
        )


ROUTES = [StatsController]
