"""Business search on PostgreSQL: weighted full-text search with prefix matching, typo tolerance with
pg_trgm, facets with counts, open now, and near-me distances (bounding box + haversine)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from servicerw.businesses.services import KIGALI, BusinessService
from servicerw.catalog.services import CatalogService
from servicerw.core import db
from servicerw.core.cache import SEARCH_TTL, Cache, digest
from servicerw.core.i18n import pick

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
FEW_RESULTS = 3  # below this, typo correction is tried
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
SORTS = ("relevance", "rating", "distance", "newest")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
EARTH_KM = 6371.0


def words_of(q: str) -> list[str]:
    """The words of a query: only word characters survive, so SQL and tsquery syntax are harmless."""
    return [w.lower() for w in _WORD.findall(q[:MAX_QUERY_LENGTH])][:MAX_WORDS]


def tsquery_text(words: list[str]) -> str:
    """`plumb:* & kicukiro:*`: every word may be a prefix (search as you type)."""
    return " & ".join(f"{w}:*" for w in words)


def minute_of_week(now: datetime | None = None) -> int:
    now = (now or datetime.now(KIGALI)).astimezone(KIGALI)
    return now.weekday() * 1440 + now.hour * 60 + now.minute


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str = ""
    province: str = ""
    district: str = ""
    sector: str = ""
    min_rating: float = 0.0
    verified: bool = False
    open_now: bool = False
    near: tuple[float, float] | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    sort: str = "relevance"
    page: int = 1

    @property
    def place(self) -> str:
        return self.sector or self.district or self.province

    def active_filters(self) -> dict[str, object]:
        defaults = SearchParams()
        return {
            k: v
            for k, v in asdict(self).items()
            if k not in ("q", "page", "sort", "radius_km") and v != getattr(defaults, k)
        }

    def query_string(self, **changes) -> str:
        """URL query of these parameters (with changes), defaults left out, for links and pagination."""
        from urllib.parse import urlencode

        params = replace(self, **changes) if changes else self
        items: list[tuple[str, str]] = []
        for key, value in asdict(params).items():
            if value == getattr(SearchParams(), key) and not (key == "radius_km" and params.near):
                continue
            if key == "near" and value:
                items.append((key, f"{value[0]:.5f},{value[1]:.5f}"))
            elif isinstance(value, bool):
                items.append((key, "1"))
            elif isinstance(value, float):
                items.append((key, f"{value:g}"))
            else:
                items.append((key, str(value)))
        return urlencode(items)


@dataclass
class SearchResult:
    params: SearchParams
    items: list[dict]
    total: int
    pages: int
    facets: dict = field(default_factory=dict)
    corrected: str = ""  # "did you mean" / "showing results for"
    suggestions: list[dict] = field(default_factory=list)  # for zero results
    cached: bool = False
    latency_ms: float = 0.0

    @property
    def page(self) -> int:
        return self.params.page


class SearchService:
    def __init__(self, businesses: BusinessService, catalog: CatalogService, cache: Cache) -> None:
        self.businesses = businesses
        self.catalog = catalog
        self.cache = cache

    # --- public API ------------------------------------------------------------------------------

    async def search(self, params: SearchParams, lang: str, *, use_cache: bool = True) -> SearchResult:
        started = time.perf_counter()
        await self.catalog.ensure_loaded()
        version = await self.cache.version("search")
        open_minute = minute_of_week() if params.open_now else None
        key = f"search:{version}:{lang}:" + digest(asdict(params), open_minute)
        payload = await self.cache.get(key) if use_cache else None
        cached = payload is not None
        if payload is None:
            payload = await self._search(params, lang)
            await self.cache.set(key, payload, SEARCH_TTL)
        return SearchResult(
            params=params,
            items=payload["items"],
            total=payload["total"],
            pages=max(1, math.ceil(payload["total"] / PAGE_SIZE)),
            facets=payload["facets"],
            corrected=payload["corrected"],
            suggestions=payload["suggestions"],
            cached=cached,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def suggest(self, q: str, lang: str, limit: int = 8) -> list[dict]:
        """Up to `limit` businesses, categories and places matching what is being typed."""
        words = words_of(q)
        if not words or len("".join(words)) < 2:
            return []
        await self.catalog.ensure_loaded()
        needle = " ".join(words)
        suggestions: list[dict] = []
        for category in self.catalog.categories.values():
            if any(_starts_words(name, needle) for name in category.names.values()):
                suggestions.append({"kind": "category", "label": category.name(lang), "url": f"/c/{category.slug}"})
        for place in self.catalog.places.values():
            if _starts_words(place.name, needle):
                parent = self.catalog.places.get(place.district_id) if place.level == "sector" else None
                label = f"{place.name}, {parent.name}" if parent else place.name
                suggestions.append({"kind": place.level, "label": label, "url": f"/p/{place.slug}"})
        suggestions = sorted(suggestions, key=lambda s: (len(s["label"]), s["label"]))[: limit // 2]
        rows = await db.fetch(
            """SELECT b.business_name, b.slug, l.name AS place
               FROM businesses b JOIN locations l ON l.id = b.location_id
               WHERE b.status = 'approved' AND b.is_active
                 AND b.search_vector @@ (to_tsquery('simple', servicerw_unaccent($1))
                                         || to_tsquery('english', servicerw_unaccent($1)))
               ORDER BY (servicerw_unaccent(lower(b.business_name)) LIKE servicerw_unaccent($2) || '%') DESC,
                        ts_rank_cd('{0.05, 0.1, 0.3, 1.0}', b.search_vector,
                                   to_tsquery('simple', servicerw_unaccent($1))) DESC,
                        b.review_count DESC
               LIMIT $3""",
            tsquery_text(words),
            _like_escape(needle),
            limit - len(suggestions),
        )
        business = [
            {"kind": "business", "label": f"{r['business_name']} · {r['place']}", "url": f"/b/{r['slug']}"}
            for r in rows
        ]
        return (business + suggestions)[:limit]

    async def refresh_words(self) -> None:
        """Rebuild the word list used for typo correction (cheap: seconds at 200k businesses)."""
        await db.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY search_words")

    # --- the query -------------------------------------------------------------------------------

    async def _search(self, params: SearchParams, lang: str) -> dict:
        words = words_of(params.q)
        found = await self._run(params, words, lang)
        corrected = ""
        if words and found["total"] < FEW_RESULTS:
            fixed = await self._correct(words)
            if fixed and fixed != words:
                retry = await self._run(params, fixed, lang)
                if retry["total"] > found["total"]:
                    found, corrected = retry, " ".join(fixed)
            if found["total"] == 0:
                retry = await self._run(params, words, lang, by_name_similarity=True)
                if retry["total"]:
                    found = retry
        suggestions = await self._zero_result_suggestions(params, words, lang) if found["total"] == 0 else []
        return {**found, "corrected": corrected, "suggestions": suggestions}

    def _filters(self, params: SearchParams, args: list) -> list[str] | None:
        """SQL conditions for the filters; None when a filter names something that does not exist."""

        def arg(value) -> str:
            args.append(value)
            return f"${len(args)}"

        conditions = ["b.status = 'approved'", "b.is_active"]
        if params.category:
            ids = self.catalog.category_ids(params.category)
            if ids is None:
                return None
            conditions.append(f"b.category_id = ANY({arg(ids)}::int[])")
        for level in ("province", "district", "sector"):
            slug = getattr(params, level)
            if slug:
                place = self.catalog.place_slugs.get(slug)
                if place is None or place.level != level:
                    return None
                conditions.append(f"l.{level}_id = {arg(place.id)}")
        if params.min_rating:
            conditions.append(f"b.average_rating >= {arg(params.min_rating)}")
        if params.verified:
            conditions.append("b.is_verified")
        if params.open_now:
            conditions.append(f"b.open_minutes @> {arg(minute_of_week())}::int")
        if params.near:
            lat, lng = params.near
            dlat = params.radius_km / 111.2
            dlng = params.radius_km / (111.2 * max(0.1, math.cos(math.radians(lat))))
            conditions.append(
                f"b.latitude BETWEEN {arg(lat - dlat)} AND {arg(lat + dlat)} "
                f"AND b.longitude BETWEEN {arg(lng - dlng)} AND {arg(lng + dlng)}"
            )
        return conditions

    async def _run(self, params: SearchParams, words: list[str], lang: str, *, by_name_similarity: bool = False):
        args: list = []
        conditions = self._filters(params, args)
        if conditions is None:
            return {"items": [], "total": 0, "facets": {}}

        def arg(value) -> str:
            args.append(value)
            return f"${len(args)}"

        rank = "0::real"
        if words and by_name_similarity:
            needle = arg(" ".join(words))
            conditions.append(f"servicerw_unaccent(b.business_name) % servicerw_unaccent({needle})")
            rank = f"similarity(servicerw_unaccent(b.business_name), servicerw_unaccent({needle}))"
        elif words:
            tsq = arg(tsquery_text(words))
            query = (
                f"(to_tsquery('simple', servicerw_unaccent({tsq})) || to_tsquery('english', servicerw_unaccent({tsq})))"
            )
            conditions.append(f"b.search_vector @@ {query}")
            phrase = arg(_like_escape(" ".join(words)))
            # Full-text rank (name > category > place > description), then an exact or starting name
            # match, then small nudges for verified, well-rated and featured businesses.
            rank = (
                f"ts_rank_cd('{{0.05, 0.1, 0.3, 1.0}}', b.search_vector, {query}) "
                f"+ CASE WHEN servicerw_unaccent(lower(b.business_name)) = servicerw_unaccent({phrase}) THEN 10 "
                f"WHEN servicerw_unaccent(lower(b.business_name)) LIKE servicerw_unaccent({phrase}) || '%' THEN 2 "
                "ELSE 0 END"
            )
        rank += (
            " + CASE WHEN b.is_verified THEN 0.05 ELSE 0 END + CASE WHEN b.is_featured THEN 0.03 ELSE 0 END"
            " + b.average_rating / 50.0 * least(b.review_count, 20) / 20.0"
        )
        distance = "NULL::float8"
        if params.near:
            lat, lng = arg(params.near[0]), arg(params.near[1])
            distance = (
                f"2 * {EARTH_KM} * asin(sqrt(power(sin(radians(b.latitude - {lat}) / 2), 2) + "
                f"cos(radians({lat})) * cos(radians(b.latitude)) * power(sin(radians(b.longitude - {lng}) / 2), 2)))"
            )
        order = {
            "relevance": "rank DESC, id",
            "rating": "average_rating DESC, review_count DESC, id",
            "newest": "created_at DESC, id",
            "distance": ("distance_km NULLS LAST, rank DESC, id" if params.near else "rank DESC, id"),
        }[params.sort]
        radius = f"WHERE distance_km <= {arg(params.radius_km)}" if params.near else ""
        minute = arg(minute_of_week())
        offset = (params.page - 1) * PAGE_SIZE
        sql = f"""
        WITH m AS MATERIALIZED (
            SELECT * FROM (
                SELECT b.id, b.category_id, l.district_id, b.average_rating, b.review_count, b.is_verified,
                       b.created_at, coalesce(b.open_minutes @> {minute}::int, false) AS open,
                       ({rank})::float8 AS rank, ({distance})::float8 AS distance_km
                FROM businesses b JOIN locations l ON l.id = b.location_id
                WHERE {" AND ".join(conditions)}
            ) candidates {radius}
        )
        SELECT
            (SELECT count(*) FROM m) AS total,
            (SELECT coalesce(json_agg(json_build_array(category_id, n)), '[]')
               FROM (SELECT category_id, count(*) AS n FROM m GROUP BY 1 ORDER BY 2 DESC LIMIT 12) x) AS categories,
            (SELECT coalesce(json_agg(json_build_array(district_id, n)), '[]')
               FROM (SELECT district_id, count(*) AS n FROM m GROUP BY 1 ORDER BY 2 DESC LIMIT 12) x) AS districts,
            (SELECT json_build_object(
                'rating_4', count(*) FILTER (WHERE average_rating >= 4),
                'rating_3', count(*) FILTER (WHERE average_rating >= 3),
                'verified', count(*) FILTER (WHERE is_verified),
                'open_now', count(*) FILTER (WHERE open)) FROM m) AS flags,
            (SELECT coalesce(json_agg(json_build_array(id, distance_km) ORDER BY ord), '[]') FROM (
                SELECT id, distance_km, row_number() OVER (ORDER BY {order}) AS ord FROM m
                ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}) page) AS page
        """
        row = await db.fetchrow(sql, *args)
        page = _json(row["page"])
        items = await self.businesses.cards([pid for pid, _d in page], lang)
        for item, (_pid, distance_km) in zip(items, page, strict=True):
            item["distance_km"] = round(distance_km, 1) if distance_km is not None else None
        flags = _json(row["flags"])
        facets = {
            "categories": [
                {"slug": c.slug, "name": c.name(lang), "count": n}
                for cid, n in _json(row["categories"])
                if (c := self.catalog.categories.get(cid))
            ],
            "districts": [
                {"slug": p.slug, "name": p.name, "count": n}
                for did, n in _json(row["districts"])
                if (p := self.catalog.places.get(did))
            ],
            "rating_4": flags["rating_4"],
            "rating_3": flags["rating_3"],
            "verified": flags["verified"],
            "open_now": flags["open_now"],
        }
        return {"items": items, "total": row["total"], "facets": facets}

    async def _correct(self, words: list[str]) -> list[str]:
        """Each word that starts no known word is replaced by the most similar known word."""
        rows = await db.fetch(
            """SELECT w.input,
                      EXISTS (SELECT 1 FROM search_words s WHERE s.word LIKE servicerw_unaccent(w.input) || '%')
                          AS known,
                      (SELECT s.word FROM search_words s
                        WHERE s.word % servicerw_unaccent(w.input)
                        ORDER BY similarity(s.word, servicerw_unaccent(w.input)) DESC, s.ndoc DESC LIMIT 1)
                          AS best
               FROM unnest($1::text[]) WITH ORDINALITY AS w(input, n) ORDER BY w.n""",
            [_like_escape(w) for w in words],
        )
        return [r["input"] if r["known"] or not r["best"] else r["best"] for r in rows]

    async def _zero_result_suggestions(self, params: SearchParams, words: list[str], lang: str) -> list[dict]:
        """Never an empty page: relaxing one filter, the wider place, related categories."""
        suggestions: list[dict] = []
        relax = {
            "verified": {"verified": False},
            "open_now": {"open_now": False},
            "min_rating": {"min_rating": 0.0},
            "near": {"near": None, "sort": "relevance"},
            "sector": {"sector": ""},
            "category": {"category": ""},
        }
        for name, change in relax.items():
            if name in params.active_filters():
                relaxed = replace(params, **change, page=1)
                total = (await self._run(relaxed, words, lang))["total"]
                if total:
                    suggestions.append(
                        {"kind": "relax", "filter": name, "count": total, "query": relaxed.query_string()}
                    )
        if params.sector and (sector := self.catalog.place_slugs.get(params.sector)):
            district = self.catalog.places.get(sector.district_id)
            if district:
                suggestions.append(
                    {
                        "kind": "place",
                        "label": district.name,
                        "query": replace(params, sector="", district=district.slug, page=1).query_string(),
                    }
                )
        if params.category and (category := self.catalog.category_slugs.get(params.category)):
            parent = self.catalog.categories.get(category.parent_id) if category.parent_id else category
            for sibling in (parent.children if parent else [])[:4]:
                if sibling.slug != category.slug:
                    suggestions.append(
                        {
                            "kind": "category",
                            "label": sibling.name(lang),
                            "query": replace(params, category=sibling.slug, page=1).query_string(),
                        }
                    )
        return suggestions


def _starts_words(text: str, needle: str) -> bool:
    """Does any word of `text` (or the text itself) start with `needle`? Accents and case ignored."""
    from unicodedata import combining, normalize

    plain = "".join(ch for ch in normalize("NFKD", text.lower()) if not combining(ch))
    return plain.startswith(needle) or any(w.startswith(needle) for w in _WORD.findall(plain))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


def category_label(catalog: CatalogService, slug: str, lang: str) -> str:
    category = catalog.category_slugs.get(slug)
    return category.name(lang) if category else slug


__all__ = ["SearchParams", "SearchResult", "SearchService", "pick"]
