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

from servicerw.core.auth import admin_only, base_url
from servicerw.notifications.services import delivery_stats
from servicerw.reviews.services import DECISIONS, PAGE_SIZE, ReviewService
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}


class AdminController(Controller):
    path = "/admin"
    guards = [admin_only]

    @get("/", name="admin")
    async def overview(self, reviews: NamedDependency[ReviewService]) -> Template:
        context = {"pending_reviews": await reviews.pending_count(), "delivery": await delivery_stats(24)}
        return Template("admin/home.html", context=context, headers=NO_STORE)

    @get("/reviews", name="admin_reviews")
    async def queue(
        self,
        reviews: NamedDependency[ReviewService],
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template:
        rows = await reviews.pending(page)
        context = {"reviews": rows[:PAGE_SIZE], "has_next": len(rows) > PAGE_SIZE, "page": page}
        return Template("admin/reviews.html", context=context, headers=NO_STORE)

    @post("/reviews/{review_id:int}", name="admin_review_decide")
    async def decide(
        self,
        request: Request,
        review_id: FromPath[int],
        data: Form,
        reviews: NamedDependency[ReviewService],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        decision = data.get("decision") or ""
        if decision not in DECISIONS:
            raise ValidationException("decision must be approve or reject")
        moderated = await reviews.moderate(review_id, decision, base_url(settings.server, request))
        if moderated is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/reviews?done={moderated.status}", status_code=303)


ROUTES = [AdminController]
