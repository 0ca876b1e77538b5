from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from servicerw.analytics.services import AnalyticsWriter
from servicerw.businesses.services import BusinessService
from servicerw.core import i18n
from servicerw.core.sessions import current_user_id
from servicerw.inquiries.services import CONTACT_METHODS
from servicerw.reviews.services import ReviewService

TAPS = {"call": "call_click", "whatsapp": "whatsapp_click", "website": "website_click", "email": "email_click"}


async def profile_context(request: Request, business: dict, reviews: ReviewService, **extra) -> dict:
    """What the profile page shows: the (cached) business, plus for a logged-in visitor whether they may
    review it, and a fresh inquiry form (its idempotency key makes a double tap send one message)."""
    user_id = current_user_id(request)
    standing = await reviews.standing(business["id"], user_id) if user_id else None
    context = {
        "b": business,
        "standing": standing,
        "logged_in": user_id is not None,
        "inquiry": {"form": {}, "errors": {}, "key": str(uuid.uuid4())},
        "review": {"form": {}, "errors": {}},
        "contact_methods": CONTACT_METHODS,
    }
    context.update(extra)
    return context


class BusinessController(Controller):
    path = "/b"

    @get("/{slug:str}", name="business_profile")
    async def profile(
        self,
        request: Request,
        slug: FromPath[str],
        businesses: NamedDependency[BusinessService],
        reviews: NamedDependency[ReviewService],
        analytics: NamedDependency[AnalyticsWriter],
    ) -> Template:
        if len(slug) > 180:
            raise NotFoundException()
        business = await businesses.profile(slug, i18n.current_language())
        if business is None:
            raise NotFoundException()
        analytics.event(business["id"], "profile_view", "profile")
        context = await profile_context(request, business, reviews)
        return Template("businesses/profile.html", context=context, headers={"cache-control": "private, no-cache"})

    @post("/{slug:str}/tap/{kind:str}", name="business_tap", status_code=204)
    async def tap(
        self,
        slug: FromPath[str],
        kind: FromPath[str],
        businesses: NamedDependency[BusinessService],
        analytics: NamedDependency[AnalyticsWriter],
    ) -> None:
        """Counts a tap on call / WhatsApp / website / email (sent by htmx on touch or mouse down, so the
        link itself still opens normally; without JavaScript the tap is simply not counted)."""
        if kind not in TAPS or len(slug) > 180:
            raise NotFoundException()
        business_id = await businesses.public_id(slug)
        if business_id is None:
            raise NotFoundException()
        analytics.event(business_id, TAPS[kind], "profile")


ROUTES = [BusinessController]
