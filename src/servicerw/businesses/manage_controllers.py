"""The owner's side: my businesses, add a business, edit it. Works without JavaScript; htmx fills the
place selects (province -> district -> sector -> cell) as they are chosen."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from servicerw.accounts.services import active_user_id
from servicerw.businesses.listing import DAYS, MAX_SERVICES, ListingErrors, ListingService, Owned
from servicerw.catalog.services import CatalogService
from servicerw.core import db, i18n
from servicerw.core.sessions import current_user_id

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "no-store"}


async def owner_business(request: Request, listings: ListingService, business_id: int) -> Owned | None:
    """The business if the logged-in user manages it; None when nobody is logged in; 404 for anyone
    else (the same answer whether the business exists or not)."""
    user_id = current_user_id(request)
    if user_id is None:
        return None
    business = await listings.owned(business_id, user_id)
    if business is None:
        raise NotFoundException()
    return business


def login_redirect(request: Request) -> Redirect:
    return Redirect(path=f"/account/login?next={request.url.path}", status_code=303)


async def place_choices(catalog: CatalogService, location_id: int | None, form: dict | None = None) -> dict:
    """The four place selects: options at each level below what is chosen so far."""
    await catalog.ensure_loaded()
    form = form or {}
    chosen: dict[str, int | None] = {"province": None, "district": None, "sector": None, "cell": None}
    if location_id:
        row = await db.fetchrow(
            "SELECT level, province_id, district_id, sector_id, id FROM locations WHERE id = $1", location_id
        )
        if row:
            chosen = {
                "province": row["province_id"],
                "district": row["district_id"],
                "sector": row["sector_id"],
                "cell": row["id"] if row["level"] == "cell" else None,
            }
    for level in ("province", "district", "sector", "cell"):
        value = form.get(f"{level}_id")
        if value and str(value).isdigit():
            chosen[level] = int(value)
    options = {"province": [(p.id, p.name) for p in catalog.provinces()]}
    parent = chosen["province"]
    for level in ("district", "sector"):
        options[level] = (
            sorted(
                [(p.id, p.name) for p in catalog.places.values() if p.level == level and p.parent_id == parent],
                key=lambda o: o[1],
            )
            if parent
            else []
        )
        if chosen[level] not in {o[0] for o in options[level]}:
            chosen[level] = None
        parent = chosen[level]
    options["cell"] = (
        [
            (r["id"], r["name"])
            for r in await db.fetch(
                "SELECT id, name FROM locations WHERE level = 'cell' AND parent_id = $1 ORDER BY name", chosen["sector"]
            )
        ]
        if chosen["sector"]
        else []
    )
    if chosen["cell"] not in {o[0] for o in options["cell"]}:
        chosen["cell"] = None
    return {"options": options, "chosen": chosen}


def form_values(values: dict) -> dict:
    """Column values to the flat form fields of the edit page."""
    fields = {k: ("" if v is None else v) for k, v in values.items() if k not in ("opening_hours", "services")}
    fields["category_id"] = values.get("category_id") or ""
    for day in DAYS:
        spans = (values.get("opening_hours") or {}).get(day)
        if values.get("opening_hours") and spans == []:
            fields[f"{day}_closed"] = "1"
        for n, (start, end) in enumerate((spans or [])[:2], start=1):
            fields[f"{day}_open{n}"], fields[f"{day}_close{n}"] = start, end
    for n, service in enumerate((values.get("services") or [])[:MAX_SERVICES]):
        for lang in ("en", "rw", "fr"):
            fields[f"service{n}_name_{lang}"] = service.get(f"name_{lang}", "")
        fields[f"service{n}_price"] = service.get("price_rwf") or ""
    return fields


class ListingController(Controller):
    path = "/dashboard"

    async def _context(self, catalog: CatalogService, fields: dict, location_id, errors: dict, **extra) -> dict:
        lang = i18n.current_language()
        return {
            "f": fields,
            "errors": errors,
            "categories": await catalog.tree(lang),
            "places": await place_choices(catalog, location_id, fields),
            "days": DAYS,
            "service_rows": range(MAX_SERVICES),
            **extra,
        }

    @get("/", name="dashboard")
    async def dashboard(self, request: Request, listings: NamedDependency[ListingService]) -> Template | Redirect:
        user_id = await active_user_id(request)
        if user_id is None:
            return login_redirect(request)
        return Template("dashboard/home.html", context={"businesses": await listings.mine(user_id)}, headers=NO_STORE)

    @get("/new", name="listing_new")
    async def new_form(self, request: Request, catalog: NamedDependency[CatalogService]) -> Template | Redirect:
        if await active_user_id(request) is None:
            return login_redirect(request)
        context = await self._context(catalog, {}, None, {}, action="/dashboard/new", creating=True)
        return Template("dashboard/listing_form.html", context=context, headers=NO_STORE)

    @post("/new", name="listing_create", status_code=200)
    async def create(
        self,
        request: Request,
        data: Form,
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template | Redirect:
        user_id = await active_user_id(request)
        if user_id is None:
            return login_redirect(request)
        if data.get("refresh_places"):  # no JavaScript: the place lists were refreshed, nothing saved
            context = await self._context(catalog, data, None, {}, action="/dashboard/new", creating=True)
            return Template("dashboard/listing_form.html", context=context, headers=NO_STORE)
        try:
            values = await listings.validate(data)
        except ListingErrors as error:
            context = await self._context(catalog, data, None, error.errors, action="/dashboard/new", creating=True)
            return Template("dashboard/listing_form.html", context=context, status_code=422, headers=NO_STORE)
        business_id = await listings.create(user_id, values)
        return Redirect(path=f"/dashboard/{business_id}/edit?created=1", status_code=303)

    async def _owned(self, request: Request, listings: ListingService, business_id: int):
        business = await owner_business(request, listings, business_id)
        return (None, None) if business is None else (current_user_id(request), business)

    @get("/{business_id:int}/edit", name="listing_edit")
    async def edit_form(
        self,
        request: Request,
        business_id: FromPath[int],
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template | Redirect:
        user_id, business = await self._owned(request, listings, business_id)
        if user_id is None:
            return login_redirect(request)
        values = await listings.values(business_id)
        context = await self._context(
            catalog,
            form_values(values),
            values["location_id"],
            {},
            action=f"/dashboard/{business_id}/edit",
            business=business,
            created=bool(request.query_params.get("created")),
            saved=request.query_params.get("saved"),
        )
        return Template("dashboard/listing_form.html", context=context, headers=NO_STORE)

    @post("/{business_id:int}/edit", name="listing_update", status_code=200)
    async def update(
        self,
        request: Request,
        business_id: FromPath[int],
        data: Form,
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template | Redirect:
        user_id, business = await self._owned(request, listings, business_id)
        if user_id is None:
            return login_redirect(request)
        action = f"/dashboard/{business_id}/edit"
        if data.get("refresh_places"):
            context = await self._context(catalog, data, None, {}, action=action, business=business)
            return Template("dashboard/listing_form.html", context=context, headers=NO_STORE)
        try:
            values = await listings.validate(data)
        except ListingErrors as error:
            context = await self._context(catalog, data, None, error.errors, action=action, business=business)
            return Template("dashboard/listing_form.html", context=context, status_code=422, headers=NO_STORE)
        held = await listings.update(business, user_id, values)
        return Redirect(path=f"{action}?saved={'moderation' if held else '1'}", status_code=303)

    @get("/places", name="place_options")
    async def place_options(
        self,
        catalog: NamedDependency[CatalogService],
        province_id: FromQuery[str] = "",
        district_id: FromQuery[str] = "",
        sector_id: FromQuery[str] = "",
        cell_id: FromQuery[str] = "",
    ) -> Template:
        """htmx: the place selects below the one just changed (empty selects arrive as empty strings)."""
        form = {"province_id": province_id, "district_id": district_id, "sector_id": sector_id, "cell_id": cell_id}
        places = await place_choices(catalog, None, {k: v[:12] for k, v in form.items() if v.isdigit()})
        return Template("dashboard/_places.html", context={"places": places, "errors": {}})
