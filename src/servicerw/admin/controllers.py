"""A minimal administration area (role `admin`): the review moderation queue and email delivery figures.
The admin issue builds the full back office; anyone else gets 404, as for a page that does not exist."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from servicerw.accounts.services import AccountService
from servicerw.businesses.manage_controllers import login_redirect
from servicerw.core.sessions import current_user_id
from servicerw.inquiries.controllers import base_url
from servicerw.notifications.services import delivery_stats
from servicerw.reviews.services import DECISIONS, PAGE_SIZE, ReviewService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}


async def _admin(request: Request, accounts: AccountService) -> int | None:
    user_id = current_user_id(request)
    if user_id is None:
        return None
    user = await accounts.get(user_id)
    if user is None or user.role != "admin":
        raise NotFoundException()
    return user_id


class AdminController(Controller):
    path = "/admin"

    @get("/", name="admin")
    async def overview(
        self, request: Request, accounts: NamedDependency[AccountService], reviews: NamedDependency[ReviewService]
    ) -> Template | Redirect:
        if await _admin(request, accounts) is None:
            return login_redirect(request)
        context = {"pending_reviews": await reviews.pending_count(), "delivery": await delivery_stats(24)}
        return Template("admin/home.html", context=context, headers=NO_STORE)

    @get("/reviews", name="admin_reviews")
    async def queue(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        reviews: NamedDependency[ReviewService],
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template | Redirect:
        if await _admin(request, accounts) is None:
            return login_redirect(request)
        rows = await reviews.pending(page)
        context = {"reviews": rows[:PAGE_SIZE], "has_next": len(rows) > PAGE_SIZE, "page": page}
        return Template("admin/reviews.html", context=context, headers=NO_STORE)

    @post("/reviews/{review_id:int}", name="admin_review_decide")
    async def decide(
        self,
        request: Request,
        review_id: FromPath[int],
        data: Form,
        accounts: NamedDependency[AccountService],
        reviews: NamedDependency[ReviewService],
    ) -> Redirect:
        if await _admin(request, accounts) is None:
            return login_redirect(request)
        decision = data.get("decision") or ""
        if decision not in DECISIONS:
            raise ValidationException("decision must be approve or reject")
        moderated = await reviews.moderate(review_id, decision, base_url(request))
        if moderated is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/reviews?done={moderated.status}", status_code=303)
