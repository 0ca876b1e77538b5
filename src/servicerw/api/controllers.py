"""The public REST API, `/api/v1` (JSON, OpenAPI at `/api/v1/openapi.json`, docs at `/api/docs`), and the pages
where owners manage their keys (`/dashboard/api-keys`) and operators set a key's tier (`/admin/api-keys`).

Handlers parse input and call `ApiReader` (the pages' own services underneath) or `ApiKeyService`; answers are
typed structs (`api/schemas.py`) with an ETag. Errors under the API router are RFC 9457 problem documents."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, Request, Response, Router, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, Parameter, QueryParameter
from litestar.response import Redirect, Template

from servicerw.api import schemas as s
from servicerw.api.gate import provide_api_business, provide_api_client
from servicerw.api.graphql import graphql_controller
from servicerw.api.params import FLAGS, MAX_API_PAGE, NEAR_PATTERN, flag, near_point, search_params
from servicerw.api.responses import PRIVATE, etagged, problem_spec
from servicerw.api.services import (
    ADMIN_PAGE_SIZE,
    NOTE_MAX,
    TIERS,
    ApiClient,
    ApiKeyService,
    ApiReader,
    Gone,
)
from servicerw.core import i18n
from servicerw.core.auth import INT4_MAX, CurrentUser, OwnedBusiness, admin_only
from servicerw.core.errors import api_error
from servicerw.core.forms import FormErrors
from servicerw.dashboard.services import PERIODS
from servicerw.search.services import DEFAULT_RADIUS_KM, MAX_QUERY_LENGTH, MAX_RADIUS_KM, SORTS

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,179}")
SLUG_PATTERN = f"^{SLUG.pattern}$"  # in the OpenAPI document too: other text is refused before any lookup
SlugPath = Annotated[str, Parameter(max_length=180, pattern=SLUG_PATTERN, examples=[Example(value="amazi-plumbing")])]
# Text without control characters (tab and newlines aside): what the app's edge check accepts, said in the schema.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Slug = Annotated[str, QueryParameter(max_length=160, pattern=TEXT_PATTERN)]
Flag = Annotated[str, QueryParameter(enum=list(FLAGS), description="1/true/on/yes or 0/false/off/no")]  # type: ignore[call-overload]
Page = Annotated[int, QueryParameter(ge=1, le=MAX_API_PAGE, description="1-based page number; no depth limit")]

COMMON_ERRORS = {
    400: problem_spec("Bad Request", 400, "Some of the values sent are not valid."),
    401: problem_spec("Unauthorized", 401, "This API key is not valid (unknown or revoked)."),
    429: problem_spec("Too Many Requests", 429, "The limit of 100 requests per 15 minutes is reached; retry in 412 s."),
}
NOT_FOUND = {404: problem_spec("Not Found", 404, "No such business.")}
OWNER_ERRORS = {
    **COMMON_ERRORS,
    403: problem_spec("Forbidden", 403, "The account this key belongs to is deactivated."),
    404: problem_spec("Not Found", 404, "No such business among this key's businesses."),
}


def _slug(value: str) -> str:
    """Slugs are [a-z0-9-]: anything else names no business (404, and never reaches the database)."""
    if not SLUG.fullmatch(value):
        raise NotFoundException("No such business.")
    return value


async def _business(reader: ApiReader, slug: str, lang: str):
    try:
        return await reader.business(_slug(slug), lang)
    except LookupError as error:
        raise NotFoundException("No such business.") from error
    except Gone as error:
        raise HTTPException(status_code=410, detail="This business was withdrawn by the operators.") from error


class PublicApi(Controller):
    path = "/"
    tags = ["Public data"]

    @get(
        "/search",
        operation_id="search",
        summary="Search businesses",
        description="The same search and filters as the site's `/search` page, with facets. Pages of 20; "
        "follow `links.next` as deep as the results go.",
        responses=COMMON_ERRORS,
    )
    async def search(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        q: Annotated[
            str, QueryParameter(max_length=MAX_QUERY_LENGTH, pattern=TEXT_PATTERN, examples=[Example(value="plumber")])
        ] = "",
        category: Annotated[
            str, QueryParameter(max_length=160, pattern=TEXT_PATTERN, examples=[Example(value="plumbers")])
        ] = "",
        province: Annotated[
            str, QueryParameter(max_length=160, pattern=TEXT_PATTERN, examples=[Example(value="kigali")])
        ] = "",
        district: Annotated[
            str, QueryParameter(max_length=160, pattern=TEXT_PATTERN, examples=[Example(value="gasabo")])
        ] = "",
        sector: Slug = "",
        min_rating: Annotated[float, QueryParameter(ge=0, le=5)] = 0.0,
        verified: Flag = "",
        open_now: Flag = "",
        near: Annotated[
            str,
            QueryParameter(
                max_length=60,
                pattern=NEAR_PATTERN,
                description="latitude,longitude (decimal degrees): sorts by and limits to the distance",
                examples=[Example(value="-1.9441,30.0619")],
            ),
        ] = "",
        radius_km: Annotated[float, QueryParameter(ge=0.5, le=MAX_RADIUS_KM)] = DEFAULT_RADIUS_KM,
        sort: Annotated[str, QueryParameter(enum=list(SORTS))] = "relevance",  # type: ignore[call-overload]
        page: Page = 1,
    ) -> Response[s.SearchPage]:
        try:
            params = search_params(
                q=q,
                category=category,
                province=province,
                district=district,
                sector=sector,
                min_rating=min_rating,
                verified=flag("verified", verified),
                open_now=flag("open_now", open_now),
                near=near_point(near),
                radius_km=radius_km,
                sort=sort,
                page=page,
            )
        except ValueError as error:
            raise ValidationException(str(error)) from error
        return etagged(request, await api_reader.search(params, i18n.current_language()))

    @get("/suggestions", operation_id="suggestions", summary="Suggestions while typing", responses=COMMON_ERRORS)
    async def suggestions(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        q: Annotated[
            str, QueryParameter(max_length=MAX_QUERY_LENGTH, pattern=TEXT_PATTERN, examples=[Example(value="sal")])
        ] = "",
    ) -> Response[s.SuggestionList]:
        return etagged(request, await api_reader.suggestions(q, i18n.current_language()))

    @get(
        "/businesses/{slug:str}",
        operation_id="business",
        summary="A business",
        description="Its profile: contacts, photos in every size, opening hours and open-now (Kigali time), "
        "services with prices in RWF, rating. 410 when the operators withdrew it.",
        responses={
            **COMMON_ERRORS,
            **NOT_FOUND,
            410: problem_spec("Gone", 410, "This business was withdrawn by the operators."),
        },
    )
    async def business(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        slug: Annotated[
            str, Parameter(max_length=180, pattern=SLUG_PATTERN, examples=[Example(value="amazi-plumbing")])
        ],
    ) -> Response[s.BusinessDetail]:
        return etagged(request, await _business(api_reader, slug, i18n.current_language()))

    @get(
        "/businesses/{slug:str}/reviews",
        operation_id="business_reviews",
        summary="A business's reviews",
        description="Published reviews, newest first, 20 a page.",
        responses={**COMMON_ERRORS, **NOT_FOUND, 410: problem_spec("Gone", 410, "This business was withdrawn.")},
    )
    async def reviews(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        slug: Annotated[
            str, Parameter(max_length=180, pattern=SLUG_PATTERN, examples=[Example(value="amazi-plumbing")])
        ],
        page: Page = 1,
    ) -> Response[s.ReviewPage]:
        try:
            found = await api_reader.reviews(_slug(slug), page, i18n.current_language())
        except LookupError as error:
            raise NotFoundException("No such business.") from error
        except Gone as error:
            raise HTTPException(status_code=410, detail="This business was withdrawn by the operators.") from error
        return etagged(request, found)

    @get("/categories", operation_id="categories", summary="Categories (two levels)", responses=COMMON_ERRORS)
    async def categories(self, request: Request, api_reader: NamedDependency[ApiReader]) -> Response[s.CategoryList]:
        return etagged(request, await api_reader.categories(i18n.current_language()))

    @get(
        "/places",
        operation_id="places",
        summary="Places: provinces, districts, sectors",
        responses=COMMON_ERRORS,
    )
    async def places(self, request: Request, api_reader: NamedDependency[ApiReader]) -> Response[s.PlaceTree]:
        return etagged(request, await api_reader.places(i18n.current_language()))


class OwnerApi(Controller):
    """Scoped to the businesses of the key's owner."""

    path = "/owner"
    tags = ["Owners (API key)"]
    security = [{"apiKey": []}]
    dependencies = {
        "api_client": Provide(provide_api_client),
        "api_business": Provide(provide_api_business),
    }

    @get("/businesses", operation_id="owner_businesses", summary="The key owner's businesses", responses=OWNER_ERRORS)
    async def businesses(
        self, request: Request, api_reader: NamedDependency[ApiReader], api_client: NamedDependency[ApiClient]
    ) -> Response[s.OwnerBusinessList]:
        return etagged(request, await api_reader.owner_businesses(api_client.user_id), PRIVATE)

    @get(
        "/businesses/{business_id:int}/inquiries",
        operation_id="owner_inquiries",
        summary="Messages received, newest first",
        responses=OWNER_ERRORS,
    )
    async def inquiries(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        api_business: NamedDependency[OwnedBusiness],
        status: Annotated[str, QueryParameter(enum=["", "new", "read", "replied", "closed"])] = "",  # type: ignore[call-overload]
        page: Page = 1,
    ) -> Response[s.InquiryPage]:
        if status not in ("", "new", "read", "replied", "closed"):
            raise ValidationException("status must be new, read, replied or closed")
        return etagged(request, await api_reader.inquiries(api_business, status, page), PRIVATE)

    @patch(
        "/businesses/{business_id:int}/inquiries/{inquiry_id:int}",
        operation_id="owner_inquiry_status",
        summary="Change a message's status",
        responses={**OWNER_ERRORS, 404: problem_spec("Not Found", 404, "No such message for this business.")},
    )
    async def set_status(
        self,
        api_reader: NamedDependency[ApiReader],
        api_business: NamedDependency[OwnedBusiness],
        inquiry_id: Annotated[int, Parameter(ge=1, le=INT4_MAX)],
        data: s.InquiryStatusChange,
    ) -> s.InquiryStatusResult:
        if not await api_reader.set_inquiry_status(api_business, inquiry_id, data.status):
            raise NotFoundException("No such message for this business.")
        return s.InquiryStatusResult(id=inquiry_id, status=data.status)

    @get(
        "/businesses/{business_id:int}/stats",
        operation_id="owner_stats",
        summary="Statistics summary",
        description="Totals of the period ending today (Kigali days) and of the period before it.",
        responses=OWNER_ERRORS,
    )
    async def stats(
        self,
        request: Request,
        api_reader: NamedDependency[ApiReader],
        api_business: NamedDependency[OwnedBusiness],
        days: Annotated[int, QueryParameter(enum=list(PERIODS))] = 30,  # type: ignore[call-overload]
    ) -> Response[s.StatsSummary]:
        if days not in PERIODS:
            raise ValidationException("days must be 7, 30 or 90")
        return etagged(request, await api_reader.stats(api_business, days), PRIVATE)


async def refuse_unknown_parameters(request: Request) -> None:
    """A misspelt parameter (`?catgory=`) is an error the partner should see (400), not silently ignored."""
    known = set(request.route_handler.parsed_fn_signature.parameters)
    unknown = sorted(name for name in request.query_params if name not in known)
    if unknown:
        raise ValidationException(
            "Unknown query parameter: " + ", ".join(name[:40] for name in unknown[:5]),
            extra=[{"key": name[:40], "message": "unknown parameter"} for name in unknown[:5]],
        )


API_V1 = Router(
    path="/api/v1",
    route_handlers=[PublicApi, OwnerApi],
    include_in_schema=True,
    before_request=refuse_unknown_parameters,
    exception_handlers={HTTPException: api_error, Exception: api_error},
)


@get("/api/docs", include_in_schema=False, name="api_docs")
async def api_docs() -> Template:
    return Template("api/docs.html", headers={"cache-control": "no-cache"})


# --- keys: the owners' page and the operators' console ------------------------------------------------

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}
OWNER_DONE = ("revoked",)
ADMIN_DONE = ("changed", "unchanged")


class ApiKeysController(Controller):
    path = "/dashboard/api-keys"

    async def _page(self, api_keys: ApiKeyService, user: CurrentUser, **extra) -> Template:
        context = {"keys": await api_keys.mine(user.id), "errors": {}, "name": "", "created": None, "done": ""}
        context.update(extra)
        status = context.pop("status", 200)
        return Template("api/keys.html", context=context, status_code=status, headers=NO_STORE)

    @get("/", name="api_keys")
    async def keys(
        self,
        user: NamedDependency[CurrentUser],
        api_keys: NamedDependency[ApiKeyService],
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        return await self._page(api_keys, user, done=done if done in OWNER_DONE else "")

    @post("/", name="api_key_create", status_code=200)
    async def create(
        self, data: Form, user: NamedDependency[CurrentUser], api_keys: NamedDependency[ApiKeyService]
    ) -> Template:
        name = data.get("name", "") if isinstance(data.get("name"), str) else ""
        try:
            created = await api_keys.create(user.id, name[:200])
        except FormErrors as error:
            return await self._page(api_keys, user, errors=error.errors, name=name[:200], status=error.status)
        # Shown this once (the page is not stored: no-store), never again.
        return await self._page(api_keys, user, created=created)

    @post("/{key_id:int}/revoke", name="api_key_revoke", status_code=200)
    async def revoke(
        self,
        key_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Redirect:
        if not 0 < key_id <= INT4_MAX or not await api_keys.revoke(user.id, key_id):
            raise NotFoundException()
        return Redirect(path="/dashboard/api-keys?done=revoked", status_code=303)


class ApiKeysAdminController(Controller):
    path = "/admin/api-keys"
    guards = [admin_only]

    @get("/", name="admin_api_keys")
    async def keys(
        self,
        api_keys: NamedDependency[ApiKeyService],
        q: Annotated[str, QueryParameter(max_length=240)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=100000)] = 1,
    ) -> Template:
        errors, rows, status = {}, [], 200
        try:
            rows = await api_keys.all_keys(q, page)
        except FormErrors as error:
            errors, status = error.errors, error.status
        context = {
            "q": q.replace("\x00", ""),
            "keys": rows[:ADMIN_PAGE_SIZE],
            "has_next": len(rows) > ADMIN_PAGE_SIZE,
            "page": page,
            "errors": errors,
        }
        return Template("api/admin_keys.html", context=context, status_code=status, headers=NO_STORE)

    async def _key_page(self, api_keys: ApiKeyService, key_id: int, **extra) -> Template:
        if not 0 < key_id <= INT4_MAX:
            raise NotFoundException()
        key = await api_keys.get(key_id)
        if key is None:
            raise NotFoundException()
        context = {"k": key, "tiers": TIERS, "errors": {}, "note": "", "note_max": NOTE_MAX, "done": ""}
        context.update(extra)
        status = context.pop("status", 200)
        return Template("api/admin_key.html", context=context, status_code=status, headers=NO_STORE)

    @get("/{key_id:int}", name="admin_api_key")
    async def key(
        self,
        key_id: FromPath[int],
        api_keys: NamedDependency[ApiKeyService],
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        return await self._key_page(api_keys, key_id, done=done if done in ADMIN_DONE else "")

    @post("/{key_id:int}/tier", name="admin_api_key_tier", status_code=200)
    async def set_tier(
        self,
        key_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Template | Redirect:
        if not 0 < key_id <= INT4_MAX:
            raise NotFoundException()
        tier = data.get("tier", "") if isinstance(data.get("tier"), str) else ""
        note = data.get("note", "") if isinstance(data.get("note"), str) else ""
        try:
            change = await api_keys.set_tier(key_id, tier, user.id, note[: NOTE_MAX + 100])
        except LookupError as error:
            raise NotFoundException() from error
        except FormErrors as error:
            return await self._key_page(
                api_keys, key_id, errors=error.errors, note=note[:NOTE_MAX], status=error.status
            )
        done = "changed" if change.changed else "unchanged"
        return Redirect(path=f"/admin/api-keys/{key_id}?done={done}", status_code=303)


ROUTES = [API_V1, api_docs, graphql_controller(), ApiKeysController, ApiKeysAdminController]
