"""The GraphQL read API at `/graphql` (strawberry's Litestar integration), over the same `ApiReader` as REST.

- Search, business, reviews, categories, places; no mutations, no subscriptions, no GraphiQL (`graphql_ide=None`).
- Limits: query text (`GRAPHQL_MAX_QUERY` characters, 413), depth (`GRAPHQL_MAX_DEPTH`), tokens and aliases.
- Cost: every returned object costs units of the key's 15-minute budget — a business 5, a review, category
  or place 1 (the request itself 1, counted by the gate before it runs) — charged after execution (the gate's
  `RateLimiter.charge`), so the headers of the answer show what remains.
- Dataloaders: the reviews nested under a page of businesses are read in one query (`ApiReader.latest_reviews`).
- Errors in resolvers are masked ("Unexpected error.") unless they are the caller's (`InputError`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from litestar import Request
from litestar.exceptions import HTTPException
from strawberry.dataloader import DataLoader
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.litestar import make_graphql_controller
from strawberry.types import Info

from servicerw.api import schemas as s
from servicerw.api.execution import PlainDataExecutionContext, TextValidationCache
from servicerw.api.gate import STATE_RATE
from servicerw.api.params import near_point, search_params
from servicerw.api.services import ApiReader, Gone
from servicerw.core import i18n
from servicerw.settings import ApiSettings

COST = {"business": 5, "review": 1, "category": 1, "place": 1}
MAX_REVIEWS = 20


class InputError(Exception):
    """A mistake of the caller's, shown as is (everything else is masked)."""


def _charge(info: Info, kind: str, count: int = 1) -> None:
    info.context["cost"] += COST[kind] * count


# --- types -------------------------------------------------------------------------------------------


@strawberry.type
class Named:
    slug: str
    name: str


@strawberry.type
class PhotoSize:
    width: int
    webp: str
    jpeg: str


@strawberry.type
class Photo:
    alt: str
    sizes: list[PhotoSize]


def _photo(p: s.Photo | None) -> Photo | None:
    if p is None:
        return None
    return Photo(alt=p.alt, sizes=[PhotoSize(width=x.width, webp=x.webp, jpeg=x.jpeg) for x in p.sizes])


@strawberry.type
class Review:
    id: int
    author: str
    rating: int
    body: str
    created_at: datetime
    owner_reply: str | None
    owner_replied_at: datetime | None


def _review(r: s.Review) -> Review:
    return Review(
        id=r.id,
        author=r.author,
        rating=r.rating,
        body=r.body,
        created_at=r.created_at,
        owner_reply=r.owner_reply,
        owner_replied_at=r.owner_replied_at,
    )


async def _latest_reviews(info: Info, business_id: int, first: int) -> list[Review]:
    if not 1 <= first <= MAX_REVIEWS:
        raise InputError(f"first must be between 1 and {MAX_REVIEWS}")
    found = await info.context["reviews_loader"].load((business_id, first))
    _charge(info, "review", len(found))
    return [_review(r) for r in found]


@strawberry.type
class BusinessSummary:
    id: int
    slug: str
    name: str
    rating: float
    review_count: int
    verified: bool
    category: Named
    place: str
    district: str | None
    photo: Photo | None
    distance_km: float | None

    @strawberry.field(description="The newest published reviews (batched across the page: one query).")
    async def reviews(self, info: Info, first: int = 3) -> list[Review]:
        return await _latest_reviews(info, self.id, first)


def _summary(b: s.BusinessSummary) -> BusinessSummary:
    return BusinessSummary(
        id=b.id,
        slug=b.slug,
        name=b.name,
        rating=b.rating,
        review_count=b.review_count,
        verified=b.verified,
        category=Named(slug=b.category.slug, name=b.category.name),
        place=b.place,
        district=b.district,
        photo=_photo(b.photo),
        distance_km=b.distance_km,
    )


@strawberry.type
class FacetCount:
    slug: str
    name: str
    count: int


@strawberry.type
class Facets:
    categories: list[FacetCount]
    districts: list[FacetCount]
    rating_4: int
    rating_3: int
    verified: int
    open_now: int


@strawberry.type
class SearchResult:
    items: list[BusinessSummary]
    total: int
    page: int
    pages: int
    per_page: int
    corrected: str
    facets: Facets


@strawberry.type
class Interval:
    opens: str
    closes: str


@strawberry.type
class DayHours:
    day: str
    intervals: list[Interval]


@strawberry.type
class Service:
    name: str
    price_rwf: int | None


@strawberry.type
class Business:
    id: int
    slug: str
    name: str
    description: str
    verified: bool
    rating: float
    review_count: int
    category: Named
    parent_category: Named | None
    place: str
    sector: str | None
    district: Named | None
    province: Named | None
    address: str
    latitude: float | None
    longitude: float | None
    phone: str
    whatsapp: str
    email: str
    website: str
    momo_pay_code: str
    hours: list[DayHours] | None
    open_now: bool | None
    services: list[Service]
    photos: list[Photo]
    response_minutes: float | None

    @strawberry.field(description="Published reviews, newest first, 20 a page.")
    async def reviews(self, info: Info, page: int = 1) -> list[Review]:
        if not 1 <= page <= 10_000_000:
            raise InputError("page must be 1 or more")
        items, _more = await info.context["reader"].review_list(self.id, page)
        _charge(info, "review", len(items))
        return [_review(r) for r in items]


def _named(n: s.Named | None) -> Named | None:
    return Named(slug=n.slug, name=n.name) if n else None


def _business(d: s.BusinessDetail) -> Business:
    return Business(
        id=d.id,
        slug=d.slug,
        name=d.name,
        description=d.description,
        verified=d.verified,
        rating=d.rating,
        review_count=d.review_count,
        category=Named(slug=d.category.slug, name=d.category.name),
        parent_category=_named(d.parent_category),
        place=d.place,
        sector=d.sector,
        district=_named(d.district),
        province=_named(d.province),
        address=d.address,
        latitude=d.latitude,
        longitude=d.longitude,
        phone=d.phone,
        whatsapp=d.whatsapp,
        email=d.email,
        website=d.website,
        momo_pay_code=d.momo_pay_code,
        hours=[
            DayHours(day=h.day, intervals=[Interval(opens=i.opens, closes=i.closes) for i in h.intervals])
            for h in d.hours
        ]
        if d.hours is not None
        else None,
        open_now=d.open_now,
        services=[Service(name=x.name, price_rwf=x.price_rwf) for x in d.services],
        photos=[p for p in (_photo(x) for x in d.photos) if p is not None],
        response_minutes=d.response_minutes,
    )


@strawberry.type
class Subcategory:
    slug: str
    name: str


@strawberry.type
class Category:
    slug: str
    name: str
    icon: str
    _children: strawberry.Private[list[s.Subcategory]]

    @strawberry.field
    def children(self, info: Info) -> list[Subcategory]:
        _charge(info, "category", len(self._children))
        return [Subcategory(slug=c.slug, name=c.name) for c in self._children]


@strawberry.type
class Place:
    slug: str
    name: str
    level: str
    _children: strawberry.Private[list[Any]]

    @strawberry.field(description="Districts of a province, sectors of a district (none below).")
    def children(self, info: Info) -> list[Place]:
        _charge(info, "place", len(self._children))
        return [_place(c) for c in self._children]


def _place(p: Any) -> Place:
    if isinstance(p, s.Province):
        return Place(slug=p.slug, name=p.name, level="province", _children=list(p.districts))
    if isinstance(p, s.District):
        return Place(slug=p.slug, name=p.name, level="district", _children=list(p.sectors))
    return Place(slug=p.slug, name=p.name, level="sector", _children=[])


@strawberry.enum
class Sort(Enum):
    RELEVANCE = "relevance"
    RATING = "rating"
    DISTANCE = "distance"
    NEWEST = "newest"


@strawberry.type
class Query:
    @strawberry.field(description="The site's search: the same filters as /search, 20 a page, no depth limit.")
    async def search(
        self,
        info: Info,
        q: str = "",
        category: str = "",
        province: str = "",
        district: str = "",
        sector: str = "",
        min_rating: float = 0.0,
        verified: bool = False,
        open_now: bool = False,
        near: str = "",
        radius_km: float = 10.0,
        sort: Sort = Sort.RELEVANCE,
        page: int = 1,
    ) -> SearchResult:
        try:
            params = search_params(
                q=q,
                category=category,
                province=province,
                district=district,
                sector=sector,
                min_rating=min_rating,
                verified=verified,
                open_now=open_now,
                near=near_point(near),
                radius_km=radius_km,
                sort=sort.value,
                page=page,
            )
        except ValueError as error:
            raise InputError(str(error)) from error
        found = await info.context["reader"].search(params, i18n.current_language())
        _charge(info, "business", len(found.items))
        f = found.facets
        return SearchResult(
            items=[_summary(b) for b in found.items],
            total=found.total,
            page=found.page,
            pages=found.pages,
            per_page=found.per_page,
            corrected=found.corrected,
            facets=Facets(
                categories=[FacetCount(slug=c.slug, name=c.name, count=c.count) for c in f.categories],
                districts=[FacetCount(slug=c.slug, name=c.name, count=c.count) for c in f.districts],
                rating_4=f.rating_4,
                rating_3=f.rating_3,
                verified=f.verified,
                open_now=f.open_now,
            ),
        )

    @strawberry.field(description="A public business by its slug (null when there is none).")
    async def business(self, info: Info, slug: str) -> Business | None:
        if len(slug) > 180 or not slug.isascii() or not slug.replace("-", "").isalnum() or slug != slug.lower():
            return None
        try:
            found = await info.context["reader"].business(slug, i18n.current_language())
        except (LookupError, Gone):
            return None
        _charge(info, "business")
        return _business(found)

    @strawberry.field(description="Top categories with their sub-categories.")
    async def categories(self, info: Info) -> list[Category]:
        found = await info.context["reader"].categories(i18n.current_language())
        _charge(info, "category", len(found.items))
        return [Category(slug=c.slug, name=c.name, icon=c.icon, _children=list(c.children)) for c in found.items]

    @strawberry.field(description="Provinces; their districts and sectors through `children`.")
    async def places(self, info: Info) -> list[Place]:
        found = await info.context["reader"].places(i18n.current_language())
        _charge(info, "place", len(found.items))
        return [_place(p) for p in found.items]


class CostCharge(SchemaExtension):
    """After execution: what the answer cost, beyond the unit the gate already counted, goes to the key's
    (or address's) window; the answer's RateLimit header then shows what remains."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        request: Request = context["request"]
        rate = request.scope.get("state", {}).get(STATE_RATE)
        if rate is not None and context["cost"] > 1:
            await request.app.state.api_limiter.charge(rate, context["cost"] - 1)

    def get_results(self) -> dict[str, Any]:
        """`extensions.cost` in the answer: what this query cost."""
        context = self.execution_context.context
        return {"cost": context["cost"]} if isinstance(context, dict) and "cost" in context else {}


def _masked(error: GraphQLError) -> bool:
    original = getattr(error, "original_error", None)
    return original is not None and not isinstance(original, InputError)


def build_schema(settings: ApiSettings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        execution_context_class=PlainDataExecutionContext,
        extensions=[
            # Partners send the same few queries again and again: parse and validate each text once.
            ParserCache(maxsize=256),
            TextValidationCache(maxsize=256),
            QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            MaxTokensLimiter(max_token_count=1000),
            MaxAliasesLimiter(max_alias_count=15),
            MaskErrors(should_mask_error=_masked),
            CostCharge,
        ],
    )


def _reviews_loader(reader: ApiReader) -> DataLoader:
    async def load(keys: list[tuple[int, int]]) -> list[list[s.Review]]:
        by_first: dict[int, list[int]] = defaultdict(list)
        for business_id, first in keys:
            by_first[first].append(business_id)
        found: dict[tuple[int, int], list[s.Review]] = {}
        for first, ids in by_first.items():
            for business_id, reviews in (await reader.latest_reviews(ids, first)).items():
                found[(business_id, first)] = reviews
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


async def graphql_context(request: Request) -> dict[str, Any]:
    """Per request: the reader, the dataloaders, the cost so far; refuses an oversized query (413)."""
    settings: ApiSettings = request.app.state.settings.api
    if request.method == "POST":
        size = len(await request.body())
    else:
        size = len(request.query_params.get("query", "")) + len(request.query_params.get("variables", ""))
    if size > settings.graphql_max_query + 1000:  # the query, and room for variables and the JSON around it
        raise HTTPException(
            status_code=413, detail=f"GraphQL queries are limited to {settings.graphql_max_query} characters."
        )
    reader: ApiReader = request.app.state.api_reader
    return {"reader": reader, "reviews_loader": _reviews_loader(reader), "cost": 0}


def graphql_controller(settings: ApiSettings | None = None):
    return make_graphql_controller(
        build_schema(settings or ApiSettings()),
        path="/graphql",
        graphql_ide=None,
        allow_queries_via_get=True,
        context_getter=graphql_context,
        subscription_protocols=(),
    )


__all__ = ["graphql_controller", "date"]
