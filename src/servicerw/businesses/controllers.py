from __future__ import annotations

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from servicerw.businesses.services import BusinessService
from servicerw.core import i18n


class BusinessController(Controller):
    path = "/b"

    @get("/{slug:str}", name="business_profile")
    async def profile(self, slug: str, businesses: BusinessService) -> Template:
        if len(slug) > 180:
            raise NotFoundException()
        business = await businesses.profile(slug, i18n.current_language())
        if business is None:
            raise NotFoundException()
        return Template("businesses/profile.html", context={"b": business})
