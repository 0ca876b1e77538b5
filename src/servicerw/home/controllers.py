from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from servicerw.businesses.services import BusinessService
from servicerw.catalog.services import CatalogService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser, safe_next
from servicerw.core.datasaver import datasaver_cookie
from servicerw.core.pagecache import PUBLIC_PAGE
from servicerw.core.web import language_cookie


class HomeController(Controller):
    path = "/"

    @get("/", name="home", opt=PUBLIC_PAGE)
    async def home(
        self, businesses: NamedDependency[BusinessService], catalog: NamedDependency[CatalogService]
    ) -> Template:
        lang = i18n.current_language()
        return Template(
            "home/page.html",
            context={
                "categories": await catalog.tree(lang),
                "provinces": catalog.province_names(lang),
                "districts": catalog.districts(),  # "near me" without JavaScript: choose a district
                "featured": await businesses.featured(lang),
            },
        )

    @get("/offline", name="offline", opt=PUBLIC_PAGE)
    async def offline(self) -> Template:
        """The page the service worker (static/js/sw.js) shows offline, filled by it with the saved pages."""
        return Template("home/offline.html")

    @post("/offline/forget", name="forget_saved_pages")
    async def forget_saved_pages(self) -> Redirect:
        """Forget the pages saved on this device (a shared phone): the browser drops the site's caches and its
        worker (`Clear-Site-Data`, the standard header; the worker is installed again on the next page)."""
        return Redirect(path="/offline", status_code=303, headers={"clear-site-data": '"storage"'})

    @get("/list-your-business", name="list_your_business")
    async def list_your_business(self, maybe_user: NamedDependency[CurrentUser | None]) -> Redirect:
        """The owner's way in from every page (home and footer, cached for everyone): a new listing when
        logged in, else the owner's sign-up."""
        target = "/dashboard/new" if maybe_user else "/account/signup?role=owner"
        return Redirect(path=target, status_code=303, headers={"cache-control": "private, no-store"})

    @get("/lang/{code:str}", name="set_language")
    async def set_language(self, request: Request, code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
        """Remember the chosen language in a cookie (a preference, not account state) and go back."""
        target = safe_next(next)
        if code not in i18n.LANGUAGES:
            return Redirect(path=target, status_code=303)
        secure = request.app.state.settings.server.production
        return Redirect(path=target, status_code=303, cookies=[language_cookie(code, secure=secure)])

    @get("/data-saver", name="set_data_saver")
    async def set_data_saver(
        self, request: Request, on: FromQuery[bool], next: FromQuery[str | None] = None
    ) -> Redirect:
        """Data saver on or off (a preference in a cookie, like the language; it overrides `Save-Data`), and back."""
        secure = request.app.state.settings.server.production
        return Redirect(path=safe_next(next), status_code=303, cookies=[datasaver_cookie(on, secure=secure)])


ROUTES = [HomeController]
