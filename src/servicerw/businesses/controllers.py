"""Public profiles (`/b/{slug}`) and the count of taps on their contact buttons."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from servicerw.analytics.services import AnalyticsWriter
from servicerw.businesses.services import BusinessService, ProfileService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser
from servicerw.core.pagecache import PUBLIC_PAGE

TAPS = {"call": "call_click", "whatsapp": "whatsapp_click", "website": "website_click", "email": "email_click"}


class BusinessController(Controller):
    path = "/b"

    @get("/{slug:str}", name="business_profile", opt=PUBLIC_PAGE)
    async def profile(
        self,
        slug: FromPath[str],
        profiles: NamedDependency[ProfileService],
        analytics: NamedDependency[AnalyticsWriter],
        maybe_user: NamedDependency[CurrentUser | None],
    ) -> Template:
        if len(slug) > 180:
            raise NotFoundException()
        business = await profiles.profile(slug, i18n.current_language())
        if business is None:
            if await profiles.withdrawn(slug):  # suspended by an operator: gone, not unknown
                return Template("businesses/gone.html", status_code=410, headers={"cache-control": "no-cache"})
            raise NotFoundException()
        analytics.event(business.id, "profile_view", "profile")
        page = await profiles.page(business, maybe_user.id if maybe_user else None)
        return Template(
            "businesses/profile.html", context=page.context(), headers={"cache-control": "private, no-cache"}
        )

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
