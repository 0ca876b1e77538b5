"""Business search on PostgreSQL: weighted full-text search with prefix matching, typo tolerance with
pg_trgm, facets with counts, open now, and near-me distances (bounding box + haversine)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from urllib.parse import urlencode

import msgspec

from servicerw.businesses.services import KIGALI, BusinessCard, BusinessService
from servicerw.catalog.services import MIN_WORD, WORD, CatalogService, plain
from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.core.cache import SEARCH_TTL, Cache, digest
from servicerw.core.replicas import lag_tolerant

PAGE_SIZE = 20
MAX_PAGE = 500
COUNT_CAP = 1000  # beyond this many matches, totals read "1,000+" and nothing costs per match (see _run)
MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
FEW_RESULTS = 3  # below this, typo correction is tried
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
SORTS = ("relevance", "rating", "distance", "newest")
EARTH_KM = 6371.0
WORDS_LOCK = 77001  # advisory lock: one process at a time refreshes the typo-correction words


def words_of(q: str) -> list[str]:
    """The words of a query: only word characters survive, so SQL and tsquery syntax are harmless.
    Words shorter than 3 letters are dropped: while typing, "k" or "ki" match half the country and mean
    nothing yet (and in names they are mostly "de", "na", "&"); the page then shows the unfiltered list."""
    return [w.lower() for w in WORD.findall(q[:MAX_QUERY_LENGTH]) if len(w) >= MIN_WORD][:MAX_WORDS]


def tsquery_text(words: list[str], synonyms: dict[tuple[str, ...], list[tuple[str, ...]]] | None = None) -> str:
    """`plumb:* & kicukiro:*`: every word may be a prefix (search as you type). With `synonyms` (plain words
    -> what they also search, `CatalogService.synonyms`), a run of words equal to a synonym also searches its
    targets, whole words: "gusana telefoni kicukiro" -> `(gusana:* & telefoni:* | phone & repair) & kicukiro:*`.
    The longest synonym wins; words are letters and digits only, so nothing here is tsquery syntax."""
    synonyms = synonyms or {}
    longest = max(map(len, synonyms), default=0)
    parts: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            targets = synonyms.get(tuple(words[i : i + n]))
            if targets:
                typed = " & ".join(f"{w}:*" for w in words[i : i + n])
                parts.append("(" + " | ".join([typed, *(" & ".join(t) for t in targets)]) + ")")
                i += n
                break
        else:
            parts.append(f"{words[i]}:*")
            i += 1
    return " & ".join(parts)


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
    capped: bool = False  # more than `total` matches: shown as "1,000+"
    more: bool = False  # a next page exists

    @property
    def page(self) -> int:
        return self.params.page


class SearchService:
    def __init__(
        self, businesses: BusinessService, catalog: CatalogService, cache: Cache, *, count_cap: int = COUNT_CAP
    ) -> None:
        self.businesses = businesses
        self.catalog = catalog
        self.cache = cache
        self.count_cap = count_cap

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
        key = f"search:{version}:{lang}:" + digest(asdict(normalised), open_slot, self.count_cap)
        payload = await self.cache.get(key) if use_cache else None
        items = _cards(payload["items"]) if payload is not None else None
        if payload is None or items is None or "more" not in payload:
            payload = await self._search(params, lang)
            items = payload["items"]
            await self.cache.set(key, msgspec.to_builtins(payload), SEARCH_TTL)
        return SearchResult(
            params=params,
            items=items,
            total=payload["total"],
            # When capped, a lower bound: the pages known so far.
            pages=max(1, math.ceil(payload["total"] / PAGE_SIZE), (params.page + payload["more"]) * payload["capped"]),
            facets=payload["facets"],
            corrected=payload["corrected"],
            suggestions=payload["suggestions"],
            latency_ms=(time.perf_counter() - started) * 1000,
            capped=payload["capped"],
            more=payload["more"],
        )

    @lag_tolerant
    async def suggest(self, q: str, lang: str, limit: int = 8) -> list[dict]:
        """Up to `limit` businesses, categories and places matching what is being typed."""
        words = words_of(q)
        if not words or len("".join(words)) < 2:
            return []
        await self.catalog.ensure_loaded()
        needle = plain(" ".join(words))
        suggestions: list[dict] = []
        for category in self.catalog.categories.values():
            # Its names in every language, and the words people type for it ("mekan" -> Mechanics).
            if any(_starts_words(name, needle) for name in [*category.names.values(), *category.synonyms]):
                suggestions.append({"kind": "category", "label": category.name(lang), "url": f"/c/{category.slug}"})
        for place in self.catalog.places.values():
            if any(_starts_words(name, needle) for name in {place.name, *place.names.values()}):
                parent = self.catalog.places.get(place.district_id) if place.level == "sector" else None
                label = f"{place.label(lang)}, {parent.label(lang)}" if parent else place.label(lang)
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

    async def refresh_words_unless_running(self) -> bool:
        """`refresh_words` by one process at a time (advisory lock); False when another one is at it. The lock
        is the transaction's: behind PgBouncer (transaction pooling) a session lock and its unlock could land on
        different server connections, and the lock would stay held."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", WORDS_LOCK):
                return False
            await conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY search_words")
        return True

    # --- the query -------------------------------------------------------------------------------

    async def _search(self, params: SearchParams, lang: str) -> dict:
        words = words_of(params.q)
        found = await self._run(params, words, lang)
        corrected = ""
        if words and found["total"] < FEW_RESULTS:
            searched = [plain(w) for w in words]
            # A synonym is a known word even when no business uses it ("garaje" is not a typo of "garage").
            known = {w for key in self.catalog.synonyms for w in key}
            fixed = [w if w in known else f for w, f in zip(searched, await self._correct(words), strict=True)]
            # Said only when the words changed: never "Showing results for plumb" for "Plumb".
            if fixed != searched:
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

        arg = _binder(args)
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
            conditions.append(_box(params.near, params.radius_km, arg))
        return conditions

    def _match(self, words: list[str], arg, *, by_name_similarity: bool) -> tuple[list[str], str, str | None]:
        """The one place where searched words become SQL (synonyms belong here): conditions on
        `business_search s`, the relevance expression, and a condition for "the name starts with the
        words" (the strongest matches, which a capped candidate set must never leave out)."""
        if words and by_name_similarity:
            needle = arg(plain(" ".join(words)))
            return [f"s.name_key % {needle}"], f"similarity(s.name_key, {needle})", None
        if not words:
            return [], "0", None
        query = self._text_query(words, arg)
        phrase = arg(_like_escape(plain(" ".join(words))))
        # Ranked on the small title vector (name, category, place): reading the large vector of every
        # match would cost far more; a description-only match still counts, just lower. An exact or
        # starting name match comes first.
        rank = (
            f"0.01 + ts_rank('{{0.05, 0.1, 0.3, 1.0}}', s.search_title, {query}) "
            f"+ CASE WHEN s.name_key = {phrase} THEN 10 WHEN s.name_key LIKE {phrase} || '%' THEN 2 ELSE 0 END"
        )
        return [f"s.search_vector @@ {query}"], rank, f"s.name_key LIKE {phrase} || '%'"

    def _text_query(self, words: list[str], arg) -> str:
        """The tsquery of the searched words, for `s.search_vector @@ …`."""
        # Synonyms: a run of words people type for a category ("mekanik", "gusana telefoni") or a province's
        # name in Kinyarwanda or French also searches the category's or province's name in the vectors,
        # inside this one text query: the word index, the ranking and the capped counting stay as they are.
        tsq = arg(tsquery_text([plain(w) for w in words], self.catalog.synonyms))
        # Both configurations, once when they agree ("salon:*" twice would make the word index read every
        # match twice; ts_rank counts a repeated word once, so the ranks are the same).
        return (
            f"(SELECT CASE WHEN a = b THEN a ELSE a || b END "
            f"FROM (SELECT to_tsquery('simple', {tsq}) AS a, to_tsquery('english', {tsq}) AS b) q)"
        )

    async def _run(self, params: SearchParams, words: list[str], lang: str, *, by_name_similarity: bool = False):
        """One page of results with its total and facets.

        Up to `count_cap` matches everything is exact: the total, the facets and the order. Beyond it (broad
        words, short prefixes, big categories and places) nothing may cost per match, so the work stops at
        the first `count_cap + 1` matches found (in the order of the table):
        - the total is shown as "1,000+" and the facets are counted on those matches (shown without counts);
        - relevance with words ranks those matches plus every match whose name starts with the words (the
          strong matches), then the remaining matches follow in id order (pages stay reachable);
        - the other orders (rating for browse pages, newest, distance, relevance without words) stay exact:
          one more query orders all matches, through the (filter, rating) indexes where there are some.
        """
        args: list = []
        conditions = self._filters(params, args)
        if conditions is None:
            return {"items": [], "total": 0, "capped": False, "more": False, "facets": {}}

        arg = _binder(args)
        matched, rank, strong = self._match(words, arg, by_name_similarity=by_name_similarity)
        conditions += matched
        # Small nudges for verified, well-reviewed and featured businesses.
        rank += (
            " + CASE WHEN s.is_verified THEN 0.05 ELSE 0 END + CASE WHEN s.is_featured THEN 0.03 ELSE 0 END"
            " + s.rating * least(s.review_count, 20) / 2000.0"
        )
        distance = _distance(params.near, arg) if params.near else "NULL::float8"
        order = {
            "relevance": "rank DESC, business_id",
            "rating": "rating DESC, review_count DESC, business_id",
            "newest": "created_at DESC, business_id",
            "distance": ("distance_km, rank DESC, business_id" if params.near else "rank DESC, business_id"),
        }[params.sort]
        radius = f"WHERE distance_km <= {arg(params.radius_km)}" if params.near else ""
        slot = arg(minute_of_week() // 15)
        offset = (params.page - 1) * PAGE_SIZE
        cap = self.count_cap
        ranked_candidates = bool(strong) and params.sort == "relevance"

        def matches(where: list[str]) -> str:
            return f"""SELECT * FROM (
                SELECT s.business_id, s.business_name, s.slug, s.location_id, s.category_id, s.district_id,
                       s.rating, s.review_count, s.is_verified,
                       s.created_at, get_bit(s.open_slots, {slot}) = 1 AS open,
                       ({rank})::float8 AS rank, ({distance})::float8 AS distance_km
                FROM business_search s
                WHERE {" AND ".join(where)}
            ) candidates {radius}"""

        # The strong matches join the candidates only when the matches were capped (a one-time filter).
        extra = (
            f"UNION ALL SELECT * FROM ({matches([*conditions, strong])} LIMIT {cap}) n "
            f"WHERE (SELECT count(*) FROM m) > {cap} AND n.business_id NOT IN (SELECT business_id FROM m)"
            if ranked_candidates
            else ""
        )
        # Pages past the ranked candidates need to know which businesses those were.
        deep = ranked_candidates and offset + PAGE_SIZE >= cap
        ids = "(SELECT array_agg(business_id) FROM c)" if deep else "NULL::int[]"
        sql = f"""
        WITH m AS MATERIALIZED ({matches(conditions)} LIMIT {cap + 1}),
        c AS MATERIALIZED (SELECT * FROM m {extra}),
        f AS (
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE rating >= 4) AS rating_4,
                   count(*) FILTER (WHERE rating >= 3) AS rating_3,
                   count(*) FILTER (WHERE is_verified) AS verified,
                   count(*) FILTER (WHERE open) AS open_now
            FROM m
        )
        SELECT f.*, (SELECT count(*) FROM c) AS candidates, {ids} AS ids,
            (SELECT array_agg(ARRAY[kind, id, n] ORDER BY n DESC) FROM (
                SELECT CASE WHEN category_id IS NOT NULL THEN 0 ELSE 1 END AS kind,
                       coalesce(category_id, district_id) AS id, count(*) AS n
                FROM m GROUP BY GROUPING SETS ((category_id), (district_id))) g) AS groups,
            ({_page_sql(f"SELECT * FROM c ORDER BY {order} LIMIT {PAGE_SIZE + 1} OFFSET {offset}")}) AS page
        FROM f
        """
        # The planner prices a sequential scan without the cost of reading every large vector out of
        # TOAST; for broad prefixes ("sal", "kig") it then picks it and runs 10x slower than the GIN index.
        text_search = bool(words) and not by_name_similarity
        local = {"enable_seqscan": "off"} if text_search else None
        row = await db.fetchrow(sql, *args, settings=local)
        capped = row["total"] > cap
        page = json.loads(row["page"]) if row["page"] else []
        if capped and params.sort == "distance" and params.near:
            # The nearest first, exactly, without ordering every match: when a smaller circle already holds
            # this page (and the one row after it), nothing outside that circle can come before them.
            page, used = [], len(args)
            for fraction in (0.125, 0.25, 0.5, 1.0):
                del args[used:]  # a parameter no statement uses would have no type
                inner = params.radius_km * fraction
                source = f"""SELECT * FROM ({matches([*conditions, _box(params.near, inner, arg)])}) b
                             WHERE b.distance_km <= {arg(inner)}"""
                page = await self._page(source, order, PAGE_SIZE + 1, offset, args, local)
                if len(page) > PAGE_SIZE:
                    break
        elif capped and not ranked_candidates:
            # Exact order over all matches (an index scan that stops early where one fits the order: the
            # (filter, rating) indexes, newest, and the nudges' expression index for relevance without words).
            page = await self._page(matches(conditions), order, PAGE_SIZE + 1, offset, args, local)
        elif capped and len(page) <= PAGE_SIZE:
            # Past the ranked candidates: the other matches, in id order.
            skip = max(0, offset - row["candidates"])
            # (NOT IN a subquery is hashed: "<> ALL(array)" would compare every row with every candidate.)
            rest = matches([*conditions, f"s.business_id NOT IN (SELECT unnest({arg(row['ids'] or [])}::int[]))"])
            # Through the word index (an id-order scan would read the large vector of every row it passes).
            page += await self._page(
                rest, "business_id", PAGE_SIZE + 1 - len(page), skip, args, {**(local or {}), "enable_indexscan": "off"}
            )
        items = [self._card(r, lang) for r in page[:PAGE_SIZE]]
        groups = [(int(kind), int(gid), int(n)) for kind, gid, n in (row["groups"] or []) if gid is not None]
        facets = {
            "categories": [
                {"slug": c.slug, "name": c.name(lang), "count": n}
                for kind, cid, n in groups
                if kind == 0 and (c := self.catalog.categories.get(cid))
            ][:12],
            "districts": [
                {"slug": p.slug, "name": p.label(lang), "count": n}
                for kind, did, n in groups
                if kind == 1 and (p := self.catalog.places.get(did))
            ][:12],
            "rating_4": row["rating_4"],
            "rating_3": row["rating_3"],
            "verified": row["verified"],
            "open_now": row["open_now"],
        }
        total = min(row["total"], cap)
        return {"items": items, "total": total, "capped": capped, "more": len(page) > PAGE_SIZE, "facets": facets}

    async def _page(self, source: str, order: str, limit: int, offset: int, args: list, local) -> list[dict]:
        sql = f"SELECT ({_page_sql(f'SELECT * FROM ({source}) x ORDER BY {order} LIMIT {limit} OFFSET {offset}')})"
        found = await db.fetchrow(sql, *args, settings=local)
        return json.loads(found[0]) if found and found[0] else []

    def _card(self, r: dict, lang: str) -> BusinessCard:
        """A result card from the search row alone (names come from the in-memory catalog): no second query."""
        category = self.catalog.categories.get(r["category_id"])
        district = self.catalog.places.get(r["district_id"]) if r["district_id"] else None
        return self.businesses.card(
            r,
            category=category.name(lang) if category else "",
            category_slug=category.slug if category else "",
            place=self.catalog.place_names.get(r["location_id"], ""),
            district=district.label(lang) if district else "",
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

    async def _relaxed_totals(self, relaxed: dict[str, SearchParams], words: list[str]) -> dict[str, int]:
        """How many businesses (up to the cap + 1, as `_run` counts them) each relaxed search finds, all counted in
        one statement: a search with no results offers up to six relaxations, and a whole search each (page,
        facets, one round trip apiece) made those pages the slowest searches."""
        args: list = []

        arg = _binder(args)
        matched = [f"s.search_vector @@ {self._text_query(words, arg)}"] if words else []  # the same for all
        counts: dict[str, str] = {}  # the relaxed searches that can match anything: their capped count
        for name, search in relaxed.items():
            used = len(args)
            conditions = self._filters(search, args)
            if conditions is None:  # a filter names nothing that exists: no match, and no parameter left over
                del args[used:]
                continue
            conditions += matched
            if search.near:
                conditions.append(f"({_distance(search.near, arg)}) <= {arg(search.radius_km)}")
            counts[name] = (
                f"(SELECT count(*) FROM (SELECT 1 FROM business_search s WHERE {' AND '.join(conditions)} "
                f"LIMIT {self.count_cap + 1}) x) AS {name}"
            )
        if not counts:  # no statement: the words' parameter alone would have no use
            return dict.fromkeys(relaxed, 0)
        # As in `_run`: through the word index, never a sequential scan of the large vectors.
        row = await db.fetchrow(
            "SELECT " + ", ".join(counts.values()), *args, settings={"enable_seqscan": "off"} if words else None
        )
        return {name: row[name] if name in counts else 0 for name in relaxed}

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
        active = params.active_filters()
        relaxed = {name: replace(params, **change, page=1) for name, change in relax.items() if name in active}
        totals = await self._relaxed_totals(relaxed, words) if relaxed else {}
        for name, search in relaxed.items():
            if totals[name]:
                count, capped = min(totals[name], self.count_cap), totals[name] > self.count_cap  # "1,000+"
                suggestions.append(
                    {"kind": "relax", "filter": name, "count": count, "capped": capped, "query": search.query_string()}
                )
        if params.sector and (sector := self.catalog.place_slugs.get(params.sector)):
            district = self.catalog.places.get(sector.district_id)
            if district:
                suggestions.append(
                    {
                        "kind": "place",
                        "label": district.label(lang),
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


def _binder(args: list):
    """`arg(value)`: appends a statement parameter to `args` and returns its placeholder ($1, $2…)."""

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    return arg


def _distance(near: tuple[float, float], arg) -> str:
    """Kilometres from `near` to the business `s` (haversine)."""
    lat, lng = arg(near[0]), arg(near[1])
    return (
        f"2 * {EARTH_KM} * asin(sqrt(power(sin(radians(s.latitude - {lat}) / 2), 2) + "
        f"cos(radians({lat})) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - {lng}) / 2), 2)))"
    )


def _box(near: tuple[float, float], radius_km: float, arg) -> str:
    """The bounding box of a circle on `business_search s` (the lat/lng index), the exact distance is checked after."""
    lat, lng = near
    dlat = radius_km / 111.2
    dlng = radius_km / (111.2 * max(0.1, math.cos(math.radians(lat))))
    return (
        f"s.latitude BETWEEN {arg(lat - dlat)} AND {arg(lat + dlat)} "
        f"AND s.longitude BETWEEN {arg(lng - dlng)} AND {arg(lng + dlng)}"
    )


def _page_sql(rows: str) -> str:
    """A JSON array of result rows (in the order of `rows`) with each business's cover photo."""
    return f"""SELECT json_agg(p ORDER BY ord) FROM (
        SELECT top.business_id, top.business_name, top.slug, top.location_id, top.category_id, top.district_id,
               top.rating, top.review_count, top.is_verified, top.distance_km,
               cover.storage_key AS cover_key, cover.width AS cover_width, cover.variant_bytes AS cover_bytes, top.ord
        FROM (SELECT r.*, row_number() OVER () AS ord FROM ({rows}) r) top
        LEFT JOIN LATERAL (
            SELECT i.storage_key, i.width, i.variant_bytes FROM business_images i
            WHERE i.business_id = top.business_id AND i.status = 'ready'
            ORDER BY i.is_cover DESC, i.position LIMIT 1
        ) cover ON true) p"""


def _cards(cached: list) -> list[BusinessCard] | None:
    """Cached result cards as cards again; None when cached by an older version (then searched afresh)."""
    try:
        return msgspec.convert(cached, list[BusinessCard])
    except msgspec.ValidationError:
        return None


def _starts_words(text: str, needle: str) -> bool:
    """Does any word of `text` (or the text itself) start with `needle`? Accents and case ignored."""
    flat = plain(text)
    return flat.startswith(needle) or any(w.startswith(needle) for w in WORD.findall(flat))


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
