from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter
from litestar.response import Template

from servicerw.core import i18n
from servicerw.search.services import MAX_QUERY_LENGTH, SearchService


class SearchController(Controller):
    path = "/search"

    @get("/", name="search")
    async def search(
        self,
        search: SearchService,
        q: str = Parameter(default="", max_length=MAX_QUERY_LENGTH),
        category: str = Parameter(default="", max_length=80),
        page: int = Parameter(default=1, ge=1, le=500),
    ) -> Template:
        result = await search.search(q.strip(), i18n.current_language(), category=category, page=page)
        return Template("search/page.html", context={"q": q, "category": category, "result": result})
