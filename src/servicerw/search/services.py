"""Business search on PostgreSQL: weighted full-text search with prefix matching, typo tolerance with
pg_trgm, facets with counts, open now, and near-me distances (bounding box + haversine)."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from urllib.parse import urlencode

import msgspec

from servicerw.businesses.services import KIGALI, BusinessCard, BusinessService
from servicerw.catalog.services import CatalogService
from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.core.cache import SEARCH_TTL, Cache, digest
from servicerw.core.replicas import lag_tolerant

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
MIN_WORD = 3
FEW_RESULTS = 3  # below this, typo correction is tried
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
SORTS = ("relevance", "rating", "distance", "newest")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
EARTH_KM = 6371.0
WORDS_LOCK = 77001  # advisory lock: one process at a time refreshes the typo-correction words


def words_of(q: str) -> list[str]:
    """The words of a query: only word characters survive, so SQL and tsquery syntax are harmless.
    Words shorter than 3 letters are dropped: while typing, "k" or "ki" match half the country and mean
    nothing yet (and in names they are mostly "de", "na", "&"); the page then shows the unfiltered list."""
    return [w.lower() for w in _WORD.findall(q[:MAX_QUERY_LENGTH]) if len(w) >= MIN_WORD][:MAX_WORDS]


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
        return {name: getattr(self, name) for name in FILTER_FIELDS if getattr(self, name) != _DEFAULTS[name]}

    def query_string(self, **changes) -> str:
        """URL query of these parameters (with changes), defaults left out, for links and pagination.
        Hand-rolled (no dataclasses.asdict/replace): result pages build dozens of these links."""
        items: list[tuple[str, str]] = []
        for name in PARAM_FIELDS:
            value = changes[name] if name in changes else getattr(self, name)
            near = changes["near"] if "near" in changes else self.near
            if value == _DEFAULTS[name] and not (name == "radius_km" and near):
                continue
            if name == "near":
                items.append((name, f"{value[0]:.5f},{value[1]:.5f}"))
            elif isinstance(value, bool):
                items.append((name, "1"))
            elif isinstance(value, float):
                items.append((name, f"{value:g}"))
            else:
                items.append((name, str(value)))
        return urlencode(items)


PARAM_FIELDS = tuple(f.name for f in fields(SearchParams))
FILTER_FIELDS = tuple(n for n in PARAM_FIELDS if n not in ("q", "page", "sort", "radius_km"))
_DEFAULTS = {f.name: f.default for f in fields(SearchParams)}


@dataclass
class SearchResult:
    params: SearchParams
    items: list[BusinessCard]
    total: int
    pages: int
    facets: dict = field(default_factory=dict)
    corrected: str = ""  # "did you mean" / "showing results for"
    suggestions: list[dict] = field(default_factory=list)  # for zero results
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

    @lag_tolerant
    async def search(self, params: SearchParams, lang: str, *, use_cache: bool = True) -> SearchResult:
        started = time.perf_counter()
        await self.catalog.ensure_loaded()
        version = await self.cache.version("search")
        # Open now changes every 15 minutes; the query is keyed by its searched words, so "Salon ",
        # "salon" and "sa lon" (short words are not searched) share one entry.
        open_slot = minute_of_week() // 15 if params.open_now else None
        normalised = replace(params, q=" ".join(plain(w) for w in words_of(params.q)))
        key = f"search:{version}:{lang}:" + digest(asdict(normalised), open_slot)
        payload = await self.cache.get(key) if use_cache else None
        items = _cards(payload["items"]) if payload is not None else None
        if payload is None or items is None:
            payload = await self._search(params, lang)
            items = payload["items"]
            await self.cache.set(key, msgspec.to_builtins(payload), SEARCH_TTL)
        return SearchResult(
            params=params,
            items=items,
            total=payload["total"],
            pages=max(1, math.ceil(payload["total"] / PAGE_SIZE)),
            facets=payload["facets"],
            corrected=payload["corrected"],
            suggestions=payload["suggestions"],
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    @lag_tolerant
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
               FROM (SELECT s.business_id FROM business_search s
                     WHERE s.search_vector @@ (to_tsquery('simple', $1) || to_tsquery('english', $1))
                     ORDER BY (s.name_key LIKE $2 || '%') DESC,
                              ts_rank('{0.05, 0.1, 0.3, 1.0}', s.search_title, to_tsquery('simple', $1)) DESC,
                              s.review_count DESC
                     LIMIT $3) top
               JOIN businesses b ON b.id = top.business_id
               JOIN locations l ON l.id = b.location_id""",
            tsquery_text([plain(w) for w in words]),
            _like_escape(plain(needle)),
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

    async def refresh_words_unless_running(self) -> bool:
        """`refresh_words` by one process at a time (advisory lock); False when another one is at it."""
        async with db.engine().pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", WORDS_LOCK):
                return False
            try:
                await conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY search_words")
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", WORDS_LOCK)
        return True

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
        """SQL conditions on `business_search s` (public businesses only); None when a filter names
        something that does not exist."""

        def arg(value) -> str:
            args.append(value)
            return f"${len(args)}"

        conditions = ["true"]
        if params.category:
            category = self.catalog.category_slugs.get(params.category)
            if category is None:
                return None
            column = "s.category_id" if category.parent_id else "s.parent_category_id"
            conditions.append(f"{column} = {arg(category.id)}")
        for level in ("province", "district", "sector"):
            slug = getattr(params, level)
            if slug:
                place = self.catalog.place_slugs.get(slug)
                if place is None or place.level != level:
                    return None
                conditions.append(f"s.{level}_id = {arg(place.id)}")
        if params.min_rating:
            conditions.append(f"s.rating >= {arg(params.min_rating)}")
        if params.verified:
            conditions.append("s.is_verified")
        if params.open_now:
            conditions.append(f"get_bit(s.open_slots, {arg(minute_of_week() // 15)}) = 1")
        if params.near:
            lat, lng = params.near
            dlat = params.radius_km / 111.2
            dlng = params.radius_km / (111.2 * max(0.1, math.cos(math.radians(lat))))
            conditions.append(
                f"s.latitude BETWEEN {arg(lat - dlat)} AND {arg(lat + dlat)} "
                f"AND s.longitude BETWEEN {arg(lng - dlng)} AND {arg(lng + dlng)}"
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

        rank = "0"
        if words and by_name_similarity:
            needle = arg(plain(" ".join(words)))
            conditions.append(f"s.name_key % {needle}")
            rank = f"similarity(s.name_key, {needle})"
        elif words:
            tsq = arg(tsquery_text([plain(w) for w in words]))
            query = f"(to_tsquery('simple', {tsq}) || to_tsquery('english', {tsq}))"
            conditions.append(f"s.search_vector @@ {query}")
            phrase = arg(_like_escape(plain(" ".join(words))))
            # Ranked on the small title vector (name, category, place): reading the large vector of every
            # match would cost far more; a description-only match still counts, just lower. An exact or
            # starting name match comes first.
            rank = (
                f"0.01 + ts_rank('{{0.05, 0.1, 0.3, 1.0}}', s.search_title, {query}) "
                f"+ CASE WHEN s.name_key = {phrase} THEN 10 WHEN s.name_key LIKE {phrase} || '%' THEN 2 ELSE 0 END"
            )
        # Small nudges for verified, well-reviewed and featured businesses.
        rank += (
            " + CASE WHEN s.is_verified THEN 0.05 ELSE 0 END + CASE WHEN s.is_featured THEN 0.03 ELSE 0 END"
            " + s.rating * least(s.review_count, 20) / 2000.0"
        )
        distance = "NULL::float8"
        if params.near:
            lat, lng = arg(params.near[0]), arg(params.near[1])
            distance = (
                f"2 * {EARTH_KM} * asin(sqrt(power(sin(radians(s.latitude - {lat}) / 2), 2) + "
                f"cos(radians({lat})) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - {lng}) / 2), 2)))"
            )
        order = {
            "relevance": "rank DESC, business_id",
            "rating": "rating DESC, review_count DESC, business_id",
            "newest": "created_at DESC, business_id",
            "distance": ("distance_km, rank DESC, business_id" if params.near else "rank DESC, business_id"),
        }[params.sort]
        radius = f"WHERE distance_km <= {arg(params.radius_km)}" if params.near else ""
        slot = arg(minute_of_week() // 15)
        offset = (params.page - 1) * PAGE_SIZE
        sql = f"""
        WITH m AS MATERIALIZED (
            SELECT * FROM (
                SELECT s.business_id, s.business_name, s.slug, s.location_id, s.category_id, s.district_id,
                       s.rating, s.review_count, s.is_verified,
                       s.created_at, get_bit(s.open_slots, {slot}) = 1 AS open,
                       ({rank})::float8 AS rank, ({distance})::float8 AS distance_km
                FROM business_search s
                WHERE {" AND ".join(conditions)}
            ) candidates {radius}
        ), f AS (
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE rating >= 4) AS rating_4,
                   count(*) FILTER (WHERE rating >= 3) AS rating_3,
                   count(*) FILTER (WHERE is_verified) AS verified,
                   count(*) FILTER (WHERE open) AS open_now
            FROM m
        )
        SELECT f.*,
            (SELECT array_agg(ARRAY[kind, id, n] ORDER BY n DESC) FROM (
                SELECT CASE WHEN category_id IS NOT NULL THEN 0 ELSE 1 END AS kind,
                       coalesce(category_id, district_id) AS id, count(*) AS n
                FROM m GROUP BY GROUPING SETS ((category_id), (district_id))) g) AS groups,
            (SELECT json_agg(p ORDER BY ord) FROM (
                SELECT top.*, cover.storage_key AS cover_key, cover.width AS cover_width,
                       row_number() OVER () AS ord FROM (
                    SELECT business_id, business_name, slug, location_id, category_id, district_id, rating,
                           review_count, is_verified, distance_km
                    FROM m ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}
                ) top
                LEFT JOIN LATERAL (
                    SELECT i.storage_key, i.width FROM business_images i
                    WHERE i.business_id = top.business_id AND i.status = 'ready'
                    ORDER BY i.is_cover DESC, i.position LIMIT 1
                ) cover ON true) p) AS page
        FROM f
        """
        # The planner prices a sequential scan without the cost of reading every large vector out of
        # TOAST; for broad prefixes ("sal", "kig") it then picks it and runs 10x slower than the GIN index.
        text_search = bool(words) and not by_name_similarity
        row = await db.fetchrow(sql, *args, settings={"enable_seqscan": "off"} if text_search else None)
        items = [self._card(r, lang) for r in (json.loads(row["page"]) if row["page"] else [])]
        groups = [(int(kind), int(gid), int(n)) for kind, gid, n in (row["groups"] or []) if gid is not None]
        facets = {
            "categories": [
                {"slug": c.slug, "name": c.name(lang), "count": n}
                for kind, cid, n in groups
                if kind == 0 and (c := self.catalog.categories.get(cid))
            ][:12],
            "districts": [
                {"slug": p.slug, "name": p.name, "count": n}
                for kind, did, n in groups
                if kind == 1 and (p := self.catalog.places.get(did))
            ][:12],
            "rating_4": row["rating_4"],
            "rating_3": row["rating_3"],
            "verified": row["verified"],
            "open_now": row["open_now"],
        }
        return {"items": items, "total": row["total"], "facets": facets}

    def _card(self, r: dict, lang: str) -> BusinessCard:
        """A result card from the search row alone (names come from the in-memory catalog): no second query."""
        category = self.catalog.categories.get(r["category_id"])
        district = self.catalog.places.get(r["district_id"]) if r["district_id"] else None
        return self.businesses.card(
            r,
            category=category.name(lang) if category else "",
            category_slug=category.slug if category else "",
            place=self.catalog.place_names.get(r["location_id"], ""),
            district=district.name if district else "",
        )

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
            [_like_escape(plain(w)) for w in words],
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


def _cards(cached: list) -> list[BusinessCard] | None:
    """Cached result cards as cards again; None when cached by an older version (then searched afresh)."""
    try:
        return msgspec.convert(cached, list[BusinessCard])
    except msgspec.ValidationError:
        return None


def _starts_words(text: str, needle: str) -> bool:
    """Does any word of `text` (or the text itself) start with `needle`? Accents and case ignored."""
    flat = plain(text)
    return flat.startswith(needle) or any(w.startswith(needle) for w in _WORD.findall(flat))


def plain(text: str) -> str:
    """Lower case without accents, as names and words are stored for matching."""
    from unicodedata import combining, normalize

    return "".join(ch for ch in normalize("NFKD", text.lower()) if not combining(ch))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words_worker(search: SearchService, every: float = 600.0) -> PollingWorker:
    """Keeps the typo-correction words fresh: a refresh every `every` seconds, the first one `every`
    seconds after start (a failed refresh only means slightly stale corrections)."""
    started = False

    async def work() -> int:
        nonlocal started
        if started:
            await search.refresh_words_unless_running()
        started = True
        return 0

    return PollingWorker("search_words", work, every=every)
