"""Claims and operators' listings.

Public side: "Is this your business? Claim it" (`/b/{slug}/claim`, logged in) and the emailed link
(`/claims/confirm`: GET shows a button, only the POST confirms). Operators (`admin_only`): the claims queue
(`/admin/claims`: approve, reject, undo), the verified badge (`/admin/listings/{id}/verification`), a listing
without an owner (`/admin/listings/new`) and the CSV import (`/admin/listings/import`).
Every page works without JavaScript: a form posts, the answer is a 303 to a page saying what was done."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from servicerw.catalog.services import CatalogService
from servicerw.claims.services import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    CSV_SAMPLE,
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    PAGE_SIZE,
    ClaimService,
    ImportRefused,
    OperatorListingService,
)
from servicerw.core import i18n
from servicerw.core.auth import INT4_MAX, CurrentUser, admin_only, base_url
from servicerw.core.forms import FormErrors
from servicerw.core.throttle import Throttle
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}
CLAIMS_PER_USER = (5, 3600)  # claims an account may send per hour
QUEUE_STATUSES = ("pending", "approved", "rejected", "undone")
LISTING_FIELDS = (
    "business_name",
    "category_id",
    "province_id",
    "district_id",
    "sector_id",
    "cell_id",
    "address",
    "phone",
    "whatsapp_number",
    "email",
    "website",
    "description_en",
    "description_rw",
    "description_fr",
)


def _slug(slug: str) -> str:
    if len(slug) > 180:  # control characters and out-of-range ids never get here (core/security.input_guard)
        raise NotFoundException()
    return slug


class ClaimController(Controller):
    """An owner claims an ownerless listing from its profile."""

    path = "/b/{slug:str}/claim"

    async def _page(
        self, claims: ClaimService, slug: str, user: CurrentUser, form: dict, errors: dict, status: int = 200, **extra
    ) -> Template:
        target = await claims.target(_slug(slug), user.id)
        if target is None:
            raise NotFoundException()
        if target.has_owner and status == 200 and not extra.get("done"):
            status = 409
        context = {"target": target, "f": form, "errors": errors, **extra}
        return Template("claims/claim.html", context=context, status_code=status, headers=NO_STORE)

    @get("/", name="claim_form")
    async def form(
        self,
        slug: FromPath[str],
        user: NamedDependency[CurrentUser],
        claims: NamedDependency[ClaimService],
        done: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        return await self._page(claims, slug, user, {}, {}, done=done if done in ("email", "operator") else "")

    @post("/", name="claim_request", status_code=200)
    async def send(
        self,
        request: Request,
        slug: FromPath[str],
        data: Form,
        user: NamedDependency[CurrentUser],
        claims: NamedDependency[ClaimService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        target = await claims.target(_slug(slug), user.id)
        if target is None:
            raise NotFoundException()
        form = {"message": (data.get("message") or "")[:1000]}
        throttle = Throttle(request.app.stores.get("claim_limits"), *CLAIMS_PER_USER)
        if await throttle.exceeded(f"user:{user.id}"):
            message = i18n.gettext("You have sent too many claims in the last hour. Please try again later.")
            return await self._page(claims, slug, user, form, {"form": message}, 429)
        try:
            requested = await claims.request(
                target, user.id, form["message"], i18n.current_language(), base_url(settings.server, request)
            )
        except FormErrors as error:
            return await self._page(claims, slug, user, form, error.errors, error.status)
        await throttle.hit(f"user:{user.id}")
        return Redirect(path=f"/b/{target.slug}/claim?done={requested.proof}", status_code=303)


class ClaimConfirmController(Controller):
    """The link emailed to the listing's address. GET never changes anything (mail scanners open links):
    it shows what the claim is about and a button; the POST confirms."""

    path = "/claims/confirm"

    @get("/", name="claim_confirm_form")
    async def form(
        self,
        claims: NamedDependency[ClaimService],
        token: Annotated[str, QueryParameter(max_length=100)] = "",
        done: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        if done == "1":
            return Template("claims/confirm.html", context={"done": True}, headers=NO_STORE)
        claim = await claims.confirmation(token) if token else None
        status = 200 if claim else 410
        context = {"claim": claim, "token": token if claim else "", "done": False}
        return Template("claims/confirm.html", context=context, status_code=status, headers=NO_STORE)

    @post("/", name="claim_confirm", status_code=200)
    async def confirm(self, data: Form, claims: NamedDependency[ClaimService]) -> Template | Redirect:
        token = (data.get("token") or "")[:100]
        claim = await claims.confirm(token) if token else None
        if claim is None:
            context = {"claim": None, "token": "", "done": False}
            return Template("claims/confirm.html", context=context, status_code=410, headers=NO_STORE)
        return Redirect(path="/claims/confirm?done=1", status_code=303)


class ClaimsAdminController(Controller):
    """The operators' side of claims and of listings without an owner."""

    path = "/admin"
    guards = [admin_only]

    # --- claims ---------------------------------------------------------------------------------------

    async def _queue(
        self, claims: ClaimService, status: str, page: int, done: str = "", error: str = "", code: int = 200
    ) -> Template:
        rows = await claims.queue(status, page)
        context = {
            "claims": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "status": status,
            "statuses": QUEUE_STATUSES,
            "counts": await claims.counts(),
            "done": done,
            "error": error,
        }
        return Template("claims/queue.html", context=context, status_code=code, headers=NO_STORE)

    @get("/claims", name="admin_claims")
    async def queue(
        self,
        claims: NamedDependency[ClaimService],
        status: Annotated[str, QueryParameter(max_length=12)] = "pending",
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        if status not in QUEUE_STATUSES:
            status = "pending"
        return await self._queue(claims, status, page, done if done in QUEUE_STATUSES else "")

    @post("/claims/{claim_id:int}/{action:str}", name="admin_claim_decide", status_code=200)
    async def decide(
        self,
        request: Request,
        claim_id: FromPath[int],
        action: FromPath[str],
        data: Form,
        user: NamedDependency[CurrentUser],
        claims: NamedDependency[ClaimService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        if action not in ("approve", "reject", "undo"):
            raise NotFoundException()
        note = (data.get("note") or "").strip()[:1000]
        back = "approved" if action == "undo" else "pending"
        if action != "approve" and not note:
            message = i18n.gettext("Write the reason: the claimant receives it.")
            return await self._queue(claims, back, 1, error=message, code=422)
        try:
            if action == "approve":
                decision = await claims.approve(claim_id, user.id, note, base_url(settings.server, request))
            elif action == "reject":
                decision = await claims.reject(claim_id, user.id, note)
            else:
                decision = await claims.undo(claim_id, user.id, note)
        except FormErrors as error:
            return await self._queue(claims, back, 1, error=error.errors.get("form", ""), code=error.status)
        if decision is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/claims?status={back}&done={decision.status}", status_code=303)

    # --- verification ---------------------------------------------------------------------------------

    async def _verification(
        self, listings: OperatorListingService, listing_id: int, done: str = "", errors=None, form=None, code=200
    ) -> Template:
        listing = await listings.verification(listing_id)
        if listing is None:
            raise NotFoundException()
        context = {"listing": listing, "done": done, "errors": errors or {}, "f": form or {}}
        return Template("claims/verification.html", context=context, status_code=code, headers=NO_STORE)

    @get("/listings/{listing_id:int}/verification", name="admin_verification")
    async def verification(
        self,
        listing_id: FromPath[int],
        operator_listings: NamedDependency[OperatorListingService],
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        return await self._verification(operator_listings, listing_id, done if done in ("verify", "unverify") else "")

    @post("/listings/{listing_id:int}/verification", name="admin_verify", status_code=200)
    async def verify(
        self,
        listing_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        operator_listings: NamedDependency[OperatorListingService],
    ) -> Template | Redirect:
        decision = data.get("decision") or ""
        if decision not in ("verify", "unverify"):
            raise NotFoundException()
        form = {"note": (data.get("note") or "")[:1000]}
        try:
            changed = await operator_listings.set_verified(listing_id, user.id, decision == "verify", form["note"])
        except FormErrors as error:
            return await self._verification(
                operator_listings, listing_id, errors=error.errors, form=form, code=error.status
            )
        if changed is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/listings/{listing_id}/verification?done={decision}", status_code=303)

    # --- a listing without an owner -------------------------------------------------------------------

    async def _new_form(
        self, catalog: CatalogService, fields: dict, errors: dict, code: int = 200, created=None
    ) -> Template:
        context = {
            "f": fields,
            "errors": errors,
            "categories": await catalog.tree(i18n.current_language()),
            "places": await catalog.place_choices(None, fields, lang=i18n.current_language()),
            "created": created,
        }
        return Template("claims/listing_new.html", context=context, status_code=code, headers=NO_STORE)

    @get("/listings/new", name="admin_listing_new")
    async def new_form(
        self,
        catalog: NamedDependency[CatalogService],
        operator_listings: NamedDependency[OperatorListingService],
        listing: Annotated[int, QueryParameter(ge=0, le=INT4_MAX)] = 0,
    ) -> Template:
        created = await operator_listings.verification(listing) if listing else None
        return await self._new_form(catalog, {}, {}, created=created)

    @post("/listings/new", name="admin_listing_create", status_code=200)
    async def create(
        self,
        data: Form,
        user: NamedDependency[CurrentUser],
        catalog: NamedDependency[CatalogService],
        operator_listings: NamedDependency[OperatorListingService],
    ) -> Template | Redirect:
        fields = {k: str(data.get(k) or "")[:2000] for k in LISTING_FIELDS}
        if data.get("refresh_places"):  # no JavaScript: the place lists were refreshed, nothing saved
            return await self._new_form(catalog, fields, {})
        try:
            listing = await operator_listings.create(user.id, fields)
        except FormErrors as error:
            return await self._new_form(catalog, fields, error.errors, error.status)
        return Redirect(path=f"/admin/listings/new?listing={listing.id}", status_code=303)

    # --- CSV import -----------------------------------------------------------------------------------

    async def _import_page(self, catalog: CatalogService, code: int = 200, **extra) -> Template:
        context = {
            "columns": CSV_COLUMNS,
            "required": CSV_REQUIRED,
            "max_rows": MAX_CSV_ROWS,
            "max_mb": MAX_CSV_BYTES // (1024 * 1024),
            "categories": await catalog.tree(i18n.current_language()),
            "report": None,
            "error": "",
            **extra,
        }
        return Template("claims/import.html", context=context, status_code=code, headers=NO_STORE)

    @get("/listings/import", name="admin_listing_import_form")
    async def import_form(self, catalog: NamedDependency[CatalogService]) -> Template:
        return await self._import_page(catalog)

    @get("/listings/import/template.csv", name="admin_listing_import_template")
    async def import_template(self) -> Response:
        return Response(
            CSV_SAMPLE,
            media_type="text/csv; charset=utf-8",
            headers={**NO_STORE, "content-disposition": 'attachment; filename="servicerw-listings.csv"'},
        )

    @post(
        "/listings/import",
        name="admin_listing_import",
        status_code=200,
        request_max_body_size=MAX_CSV_BYTES + 64 * 1024,
    )
    async def import_csv(
        self,
        request: Request,
        user: NamedDependency[CurrentUser],
        catalog: NamedDependency[CatalogService],
        operator_listings: NamedDependency[OperatorListingService],
    ) -> Template:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._import_page(catalog, 400, error=i18n.gettext("Choose a CSV file first."))
        data = await upload.read(MAX_CSV_BYTES + 1)
        filename = "".join(ch for ch in upload.filename if ch.isprintable())[:80]
        try:
            report = await operator_listings.import_csv(user.id, data, filename)
        except ImportRefused as refused:
            return await self._import_page(catalog, refused.status, error=refused.message, filename=filename)
        code = 422 if report.errors and not report.imported else 200
        return await self._import_page(catalog, code, report=report, filename=filename)


ROUTES = [ClaimController, ClaimConfirmController, ClaimsAdminController]
