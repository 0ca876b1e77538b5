"""The operators' side of listings: the queue of new listings and the listing page (a preview identical to
the public profile, with approve / reject / feature / unfeature / suspend / reactivate), the queue of edits
to live listings with their diff; and the owner's own preview of a listing that is not public.

Every action is a plain POST form (CSRF, works without JavaScript) answered with 303 to a page that shows
`?done=...`; a form with a problem comes back with its message (422, or 409 when the listing changed)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from servicerw.businesses.services import ProfileService
from servicerw.core import i18n
from servicerw.core.auth import INT4_MAX, CurrentUser, OwnedBusiness, admin_only, base_url
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.moderation.services import PAGE_SIZE, ModerationService
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Page = Annotated[int, QueryParameter(ge=1, le=10000)]
NO_STORE = {"cache-control": "private, no-store"}
LISTING_ACTIONS = ("approve", "reject", "feature", "unfeature", "suspend", "reactivate")
DONE = {  # ?done= values the pages confirm
    "approve",
    "reject",
    "feature",
    "unfeature",
    "suspend",
    "reactivate",
    "change-approve",
    "change-reject",
}


def _changed_meanwhile() -> str:
    return _("This listing's status has changed meanwhile: look again.")


def _id(value: int) -> int:
    """Ids are PostgreSQL integers: anything outside 1..2^31-1 cannot exist."""
    if not 0 < value <= INT4_MAX:
        raise NotFoundException()
    return value


def _done(request: Request) -> str:
    value = request.query_params.get("done", "")
    return value if value in DONE else ""


class ModerationController(Controller):
    path = "/admin"
    guards = [admin_only]

    # --- new listings -------------------------------------------------------------------------------

    @get("/listings", name="admin_listings")
    async def listings(
        self, request: Request, moderation: NamedDependency[ModerationService], page: Page = 1
    ) -> Template:
        rows = await moderation.pending_listings(i18n.current_language(), page)
        context = {
            "listings": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "counts": await moderation.counts(),
            "done": _done(request),
        }
        return Template("moderation/listings.html", context=context, headers=NO_STORE)

    async def _listing_page(
        self,
        moderation: ModerationService,
        profiles: ProfileService,
        user: CurrentUser,
        listing_id: int,
        *,
        done: str = "",
        form: dict | None = None,
        errors: dict | None = None,
        status: int = 200,
    ) -> Template:
        decision = await moderation.listing(listing_id)
        profile = await profiles.preview(listing_id, i18n.current_language())
        if decision is None or profile is None:
            raise NotFoundException()
        page = await profiles.page(profile, user.id)
        context = {
            **page.context(),
            "decision": decision,
            "done": done,
            "f": form or {},
            "errors": errors or {},
        }
        return Template("moderation/listing.html", context=context, status_code=status, headers=NO_STORE)

    @get("/listings/{listing_id:int}", name="admin_listing")
    async def listing(
        self,
        request: Request,
        listing_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        moderation: NamedDependency[ModerationService],
        profiles: NamedDependency[ProfileService],
    ) -> Template:
        return await self._listing_page(moderation, profiles, user, _id(listing_id), done=_done(request))

    @post(
        [f"/listings/{{listing_id:int}}/{action}" for action in LISTING_ACTIONS],
        name="admin_listing_action",
        status_code=200,
    )
    async def listing_action(
        self,
        request: Request,
        listing_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        moderation: NamedDependency[ModerationService],
        profiles: NamedDependency[ProfileService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        listing_id = _id(listing_id)
        action = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        link = base_url(settings.server, request)
        reason = data.get("reason", "")
        try:
            if action == "approve":
                result = await moderation.approve(listing_id, user.id, link)
            elif action == "reject":
                result = await moderation.reject(listing_id, user.id, reason, link)
            elif action == "suspend":
                result = await moderation.suspend(listing_id, user.id, reason, link)
            elif action == "reactivate":
                result = await moderation.reactivate(listing_id, user.id, base_url=link)
            elif action == "feature":
                result = await moderation.feature(listing_id, user.id, data.get("until", ""))
            else:
                result = await moderation.unfeature(listing_id, user.id)
        except FormErrors as error:
            return await self._listing_page(
                moderation,
                profiles,
                user,
                listing_id,
                form={**data, "action": action},
                errors=error.errors,
                status=error.status,
            )
        if result is None:  # unknown (404), or no longer in a state this action applies to (409)
            return await self._listing_page(
                moderation, profiles, user, listing_id, errors={"form": _changed_meanwhile()}, status=409
            )
        return Redirect(path=f"/admin/listings/{listing_id}?done={action}", status_code=303)

    # --- edits to live listings -----------------------------------------------------------------

    @get("/changes", name="admin_changes")
    async def changes(
        self, request: Request, moderation: NamedDependency[ModerationService], page: Page = 1
    ) -> Template:
        rows = await moderation.pending_changes(page)
        context = {
            "changes": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "counts": await moderation.counts(),
            "done": _done(request),
        }
        return Template("moderation/changes.html", context=context, headers=NO_STORE)

    async def _change_page(
        self,
        moderation: ModerationService,
        change_id: int,
        *,
        done: str = "",
        form: dict | None = None,
        errors: dict | None = None,
        status: int = 200,
    ) -> Template:
        change = await moderation.change(change_id, i18n.current_language())
        if change is None:
            raise NotFoundException()
        context = {"change": change, "done": done, "f": form or {}, "errors": errors or {}}
        return Template("moderation/change.html", context=context, status_code=status, headers=NO_STORE)

    @get("/changes/{change_id:int}", name="admin_change")
    async def change(
        self, request: Request, change_id: FromPath[int], moderation: NamedDependency[ModerationService]
    ) -> Template:
        return await self._change_page(moderation, _id(change_id), done=_done(request))

    @post(
        ["/changes/{change_id:int}/approve", "/changes/{change_id:int}/reject"],
        name="admin_change_action",
        status_code=200,
    )
    async def change_action(
        self,
        request: Request,
        change_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        moderation: NamedDependency[ModerationService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        change_id = _id(change_id)
        action = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        link = base_url(settings.server, request)
        try:
            if action == "approve":
                result = await moderation.approve_change(change_id, user.id, link)
            else:
                result = await moderation.reject_change(change_id, user.id, data.get("reason", ""), link)
        except FormErrors as error:
            return await self._change_page(moderation, change_id, form=data, errors=error.errors, status=error.status)
        if result is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/changes/{change_id}?done=change-{action}", status_code=303)


class OwnerPreviewController(Controller):
    """The owner sees their listing as customers will, before it is public (or while it is not)."""

    path = "/dashboard"

    @get("/{business_id:int}/preview", name="listing_preview")
    async def preview(
        self,
        owned_business: NamedDependency[OwnedBusiness],
        maybe_user: NamedDependency[CurrentUser | None],
        profiles: NamedDependency[ProfileService],
    ) -> Template:
        profile = await profiles.preview(owned_business.id, i18n.current_language())
        if profile is None:
            raise NotFoundException()
        page = await profiles.page(profile, maybe_user.id if maybe_user else None)
        context = {**page.context(), "business": owned_business}
        return Template("moderation/owner_preview.html", context=context, headers=NO_STORE)


ROUTES = [ModerationController, OwnerPreviewController]
