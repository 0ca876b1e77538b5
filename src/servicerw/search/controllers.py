from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from servicerw.core import i18n
from servicerw.search.services import MAX_QUERY_LENGTH, SearchService


class SearchController(Controller):
    path = "/search"

    @get("/", name="search")
    async def search(
        self,
        search: NamedDependency[SearchService],
        q: Annotated[str, QueryParameter(max_length=MAX_QUERY_LENGTH)] = "",
        category: Annotated[str, QueryParameter(max_length=80)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=500)] = 1,
    ) -> Template:
        result = await search.search(q.strip(), i18n.current_language(), category=category, page=page)
        return Template("search/page.html", context={"q": q, "category": category, "result": result})
