from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from servicerw.businesses.services import BusinessService
from servicerw.core import i18n


class BusinessController(Controller):
    path = "/b"

    @get("/{slug:str}", name="business_profile")
    async def profile(self, slug: FromPath[str], businesses: NamedDependency[BusinessService]) -> Template:
        if len(slug) > 180:
            raise NotFoundException()
        business = await businesses.profile(slug, i18n.current_language())
        if business is None:
            raise NotFoundException()
        return Template("businesses/profile.html", context={"b": business})
