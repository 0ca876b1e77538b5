"""The owner's side: my businesses, add a business, edit it. Works without JavaScript; htmx fills the
place selects (province -> district -> sector -> cell) as they are chosen."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from servicerw.businesses.listing import DAYS, MAX_SERVICES, ListingService
from servicerw.catalog.services import CatalogService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser, OwnedBusiness
from servicerw.core.forms import FormErrors
from servicerw.notifications.sms import SmsAlerts

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "no-store"}


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

    async def _form(
        self, catalog: CatalogService, fields: dict, location_id, errors: dict, status: int = 200, **extra
    ) -> Template:
        context = {
            "f": fields,
            "errors": errors,
            "categories": await catalog.tree(i18n.current_language()),
            "places": await catalog.place_choices(location_id, fields, lang=i18n.current_language()),
            "days": DAYS,
            "service_rows": range(MAX_SERVICES),
            **extra,
        }
        return Template("businesses/listing_form.html", context=context, status_code=status, headers=NO_STORE)

    @get("/", name="dashboard")
    async def dashboard(
        self,
        user: NamedDependency[CurrentUser],
        listings: NamedDependency[ListingService],
        sms_alerts: NamedDependency[SmsAlerts],
    ) -> Template:
        context = {"businesses": await listings.mine(user.id), "sms": await sms_alerts.status(user.id)}
        return Template("dashboard/home.html", context=context, headers=NO_STORE)

    @get("/new", name="listing_new")
    async def new_form(self, user: NamedDependency[CurrentUser], catalog: NamedDependency[CatalogService]) -> Template:
        return await self._form(catalog, {}, None, {}, action="/dashboard/new", creating=True)

    @post("/new", name="listing_create", status_code=200)
    async def create(
        self,
        user: NamedDependency[CurrentUser],
        data: Form,
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template | Redirect:
        new = {"action": "/dashboard/new", "creating": True}
        if data.get("refresh_places"):  # no JavaScript: the place lists were refreshed, nothing saved
            return await self._form(catalog, data, None, {}, **new)
        try:
            values = await listings.validate(data)
        except FormErrors as error:
            return await self._form(catalog, data, None, error.errors, error.status, **new)
        business_id = await listings.create(user.id, values)
        return Redirect(path=f"/dashboard/{business_id}/edit?created=1", status_code=303)

    @get("/{business_id:int}/edit", name="listing_edit")
    async def edit_form(
        self,
        request: Request,
        owned_business: NamedDependency[OwnedBusiness],
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template:
        values = await listings.values(owned_business.id)
        return await self._form(
            catalog,
            form_values(values),
            values["location_id"],
            {},
            action=f"/dashboard/{owned_business.id}/edit",
            business=owned_business,
            state=await listings.state(owned_business.id),
            created=bool(request.query_params.get("created")),
            saved=request.query_params.get("saved"),
        )

    @post("/{business_id:int}/edit", name="listing_update", status_code=200)
    async def update(
        self,
        user: NamedDependency[CurrentUser],
        owned_business: NamedDependency[OwnedBusiness],
        data: Form,
        listings: NamedDependency[ListingService],
        catalog: NamedDependency[CatalogService],
    ) -> Template | Redirect:
        action = f"/dashboard/{owned_business.id}/edit"
        if data.get("refresh_places"):
            return await self._form(catalog, data, None, {}, action=action, business=owned_business)
        try:
            values = await listings.validate(data)
        except FormErrors as error:
            return await self._form(
                catalog, data, None, error.errors, error.status, action=action, business=owned_business
            )
        saved = await listings.update(owned_business, user.id, values)
        return Redirect(path=f"{action}?saved={saved}", status_code=303)

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
        places = await catalog.place_choices(None, form, lang=i18n.current_language())
        return Template("businesses/_places.html", context={"places": places, "errors": {}})


ROUTES = [ListingController]
