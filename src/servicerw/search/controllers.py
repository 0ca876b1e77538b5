"""Search, suggestions and browse pages. Full pages include the results fragment that htmx requests
get alone, so one template serves both; responses vary on HX-Request."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from markupsafe import escape

from servicerw.analytics.services import AnalyticsWriter
from servicerw.catalog.services import CatalogService
from servicerw.core import i18n
from servicerw.core.pagecache import PUBLIC_PAGE
from servicerw.core.web import wants_fragment
from servicerw.search.services import (
    DEFAULT_RADIUS_KM,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    MAX_RADIUS_KM,
    SORTS,
    SearchParams,
    SearchResult,
    SearchService,
)

Slug = Annotated[str, QueryParameter(max_length=160)]
VARY = {"vary": "HX-Request"}


def _flag(value: str) -> bool:
    if value.lower() in ("", "0", "false", "off", "no"):
        return False
    if value.lower() in ("1", "true", "on", "yes"):
        return True
    raise ValidationException(f"invalid yes/no value: {value[:20]!r}")


def _near(value: str) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lat_s, lng_s = value.split(",", 1)
        lat, lng = float(lat_s), float(lng_s)
    except ValueError as error:
        raise ValidationException("near must be 'latitude,longitude'") from error
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationException("near is outside the map")
    return (lat, lng)


def build_params(
    q: str,
    category: str,
    province: str,
    district: str,
    sector: str,
    min_rating: float,
    verified: str,
    open_now: str,
    near: str,
    radius_km: float,
    sort: str,
    page: int,
) -> SearchParams:
    where = _near(near)
    if sort not in SORTS:
        raise ValidationException(f"sort must be one of {', '.join(SORTS)}")
    return SearchParams(
        q=q.strip(),
        category=category,
        province=province,
        district=district,
        sector=sector,
        min_rating=min_rating,
        verified=_flag(verified),
        open_now=_flag(open_now),
        near=where,
        radius_km=radius_km,
        sort=sort if (sort != "distance" or where) else "relevance",
        page=page,
    )


def record(analytics: AnalyticsWriter, result: SearchResult, lang: str, source: str) -> None:
    params = result.params
    analytics.search(
        query=params.q,
        corrected=result.corrected,
        filters=params.active_filters(),
        result_count=result.total,
        latency_ms=round(result.latency_ms, 2),
        language=lang,
        page=params.page,
        source=source,
    )
    analytics.impressions([item.id for item in result.items], source, params.q)


class SearchController(Controller):
    path = "/"
    request_class = HTMXRequest

    @get("/search", name="search", opt=PUBLIC_PAGE)
    async def search(
        self,
        request: HTMXRequest,
        search: NamedDependency[SearchService],
        catalog: NamedDependency[CatalogService],
        analytics: NamedDependency[AnalyticsWriter],
        q: Annotated[str, QueryParameter(max_length=MAX_QUERY_LENGTH)] = "",
        category: Slug = "",
        province: Slug = "",
        district: Slug = "",
        sector: Slug = "",
        min_rating: Annotated[float, QueryParameter(ge=0, le=5)] = 0.0,
        verified: Annotated[str, QueryParameter(max_length=5)] = "",
        open_now: Annotated[str, QueryParameter(max_length=5)] = "",
        near: Annotated[str, QueryParameter(max_length=60)] = "",
        radius_km: Annotated[float, QueryParameter(ge=0.5, le=MAX_RADIUS_KM)] = DEFAULT_RADIUS_KM,
        sort: Annotated[str, QueryParameter(max_length=12)] = "relevance",
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
    ) -> Template:
        params = build_params(
            q, category, province, district, sector, min_rating, verified, open_now, near, radius_km, sort, page
        )
        lang = i18n.current_language()
        result = await search.search(params, lang)
        record(analytics, result, lang, "search")
        context = {"result": result, "params": params, "form": await form_context(catalog, lang)}
        if wants_fragment(request):
            # The address bar gets the tidy URL (no empty form fields), shareable and right for Back.
            query = params.query_string()
            push = {"HX-Push-Url": "/search" + (f"?{query}" if query else "")}
            return Template("search/_results.html", context=context, headers={**VARY, **push})
        return Template("search/page.html", context=context, headers=VARY)

    @get("/search/suggest", name="suggest", opt={**PUBLIC_PAGE, "page_cache_max_age": 0})
    async def suggest(
        self,
        search: NamedDependency[SearchService],
        q: Annotated[str, QueryParameter(max_length=MAX_QUERY_LENGTH)] = "",
    ) -> Template:
        items = await search.suggest(q, i18n.current_language())
        return Template(
            "search/_suggestions.html",
            context={"items": items, "q": q},
            # Not kept by browsers: a suspended or newly approved listing must show (or not) at the next keystroke.
            headers={"cache-control": "no-cache"},
        )

    @get(["/c/{slug:str}", "/p/{slug:str}"], name="browse", opt=PUBLIC_PAGE)
    async def browse(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        search: NamedDependency[SearchService],
        catalog: NamedDependency[CatalogService],
        analytics: NamedDependency[AnalyticsWriter],
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
    ) -> Template:
        """A category (`/c/`) or place (`/p/`) page: its results (the same fragment as search) under its heading."""
        lang = i18n.current_language()
        kind = "category" if request.url.path.startswith("/c/") else "place"
        heading = await catalog.browse_heading(kind, slug, lang)
        if heading is None:
            raise NotFoundException()
        params = SearchParams(page=page, sort="rating", **heading.search_filter)
        result = await search.search(params, lang)
        record(analytics, result, lang, kind)
        context = {"result": result, "params": params, "form": await form_context(catalog, lang), "heading": heading}
        template = "search/_results.html" if wants_fragment(request) else "search/browse.html"
        return Template(template, context=context, headers=VARY)


async def form_context(catalog: CatalogService, lang: str) -> dict:
    """Choices for the filter form. The <option> lists (84 of them) are built once per language and
    reused: rendering them through the template on every keystroke cost more than the search itself."""
    await catalog.ensure_loaded()
    return {
        "category_options": _category_options(catalog, lang, catalog.loaded_at),
        "district_options": _district_options(catalog, catalog.loaded_at),
        "sorts": SORTS,
    }


@lru_cache(maxsize=8)
def _category_options(catalog: CatalogService, lang: str, _version: float) -> str:
    groups = []
    for top in catalog.top_categories():
        name = escape(top.name(lang))
        everything = i18n.translations(lang).gettext("All: %(name)s") % {"name": top.name(lang)}
        items = [f'<option value="{top.slug}">{escape(everything)}</option>']
        items += [f'<option value="{c.slug}">{escape(c.name(lang))}</option>' for c in top.children]
        groups.append(f'<optgroup label="{name}">{"".join(items)}</optgroup>')
    return "".join(groups)


@lru_cache(maxsize=2)
def _district_options(catalog: CatalogService, _version: float) -> str:
    return "".join(f'<option value="{d.slug}">{escape(d.name)}</option>' for d in catalog.districts())


ROUTES = [SearchController]
