"""Business search on PostgreSQL full-text search (the discovery issue extends this)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from servicerw.businesses.services import CARD_COLUMNS, COVER_JOIN, BusinessService
from servicerw.businesses.tables import Business

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
_WORD = re.compile(r"\w+", re.UNICODE)


def to_tsquery_text(q: str) -> str:
    """Words of the query as a prefix tsquery (`plum:* & kicu:*`); anything but word characters is
    dropped, so SQL and tsquery metacharacters are harmless (the text is also passed as a parameter)."""
    words = _WORD.findall(q.lower())[:8]
    return " & ".join(f"{w}:*" for w in words)


@dataclass
class SearchResult:
    items: list[dict]
    total: int
    page: int
    pages: int


class SearchService:
    def __init__(self, businesses: BusinessService) -> None:
        self.businesses = businesses

    async def search(self, q: str, lang: str, category: str = "", page: int = 1) -> SearchResult:
        tsquery = to_tsquery_text(q[:MAX_QUERY_LENGTH])
        page = max(1, page)
        conditions = ["b.status = 'approved'", "b.is_active"]
        args: list = []
        if tsquery:
            conditions.append("b.search_vector @@ to_tsquery('simple', servicerw_unaccent({}))")
            args.append(tsquery)
        if category:
            conditions.append("(c.slug = {} OR pc.slug = {})")
            args += [category, category]
        rank = "ts_rank_cd(b.search_vector, to_tsquery('simple', servicerw_unaccent({})))" if tsquery else "0"
        rank_args = [tsquery] if tsquery else []
        rows = await Business.raw(
            f"""SELECT {CARD_COLUMNS}, count(*) OVER () AS total
                FROM (
                    SELECT b.*, {rank} AS rank
                    FROM businesses b
                    JOIN categories c ON c.id = b.category_id
                    LEFT JOIN categories pc ON pc.id = c.parent_id
                    WHERE {" AND ".join(conditions)}
                ) b
                JOIN categories c ON c.id = b.category_id
                JOIN locations l ON l.id = b.location_id
                LEFT JOIN locations d ON d.id = l.district_id
                {COVER_JOIN}
                ORDER BY b.rank DESC, b.is_featured DESC, b.average_rating DESC, b.id
                LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}""",
            *rank_args,
            *args,
        )
        total = rows[0]["total"] if rows else 0
        return SearchResult(
            items=[self.businesses.card(row, lang) for row in rows],
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )
