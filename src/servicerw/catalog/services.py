"""Categories and places: reference data kept in memory (reloaded every 24 h), and business counts
per category and place (cached 15 min)."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field

from servicerw.core import db
from servicerw.core.cache import REFERENCE_TTL, SEARCH_TTL, Cache
from servicerw.core.i18n import pick
from servicerw.core.replicas import lag_tolerant

MIN_WORD = 3  # shorter words are not searched (see `search.services.words_of`)
WORD = re.compile(r"[^\W_]+", re.UNICODE)  # what a word is, for search and for synonyms


def plain(text: str) -> str:
    """Lower case without accents, as names and words are stored for matching."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def plain_words(text: str) -> tuple[str, ...]:
    """The searchable words of a text, as a search matches them: "Umufundi w'amazi" -> ("umufundi", "amazi")."""
    return tuple(w for w in WORD.findall(plain(text)) if len(w) >= MIN_WORD)


@dataclass
class Category:
    id: int
    parent_id: int | None
    slug: str
    icon: str
    names: dict[str, str]
    children: list[Category] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)  # words people type for it (category_synonyms)

    def name(self, lang: str) -> str:
        return pick(lang, self.names["en"], self.names["rw"], self.names["fr"])


@dataclass
class Place:
    id: int
    parent_id: int | None
    level: str
    slug: str
    name: str
    province_id: int | None
    district_id: int | None
    sector_id: int | None
    latitude: float | None
    longitude: float | None
    names: dict[str, str] = field(default_factory=dict)  # en/rw/fr; provinces only (others are proper names)
    children: list[Place] = field(default_factory=list)

    def label(self, lang: str) -> str:
        """The name in `lang` ("Intara y'Iburasirazuba", "Province de l'Est"); proper names are the same."""
        return self.names.get(lang) or self.name


@dataclass(frozen=True, slots=True)
class PlaceName:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    name: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class BrowseHeading:
    """What a category or place page shows above its results, and the search filter that lists them."""

    kind: str  # category | place
    title: str
    icon: str
    crumbs: list[Link]
    children: list[Link]
    count: int
    search_filter: dict[str, str]


class CatalogService:
    """Categories and places (province, district, sector) by id and slug. Cells are not browsable."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.loaded_at = 0.0
        self.categories: dict[int, Category] = {}
        self.category_slugs: dict[str, Category] = {}
        self.places: dict[int, Place] = {}
        self.place_slugs: dict[str, Place] = {}
        self.place_names: dict[int, str] = {}  # every level, cells included (for result cards)
        # Searched words -> what they also search: a category's synonyms -> its name, a province's
        # Kinyarwanda or French name -> the English one in the search vectors (see SearchService._match).
        self.synonyms: dict[tuple[str, ...], list[tuple[str, ...]]] = {}

    async def ensure_loaded(self) -> None:
        if time.monotonic() - self.loaded_at < REFERENCE_TTL and self.categories:
            return
        categories: dict[int, Category] = {}
        for row in await db.fetch(
            "SELECT id, parent_id, slug, icon, name_en, name_rw, name_fr FROM categories "
            "ORDER BY parent_id NULLS FIRST, sort_order"
        ):
            categories[row["id"]] = Category(
                row["id"],
                row["parent_id"],
                row["slug"],
                row["icon"],
                {"en": row["name_en"], "rw": row["name_rw"], "fr": row["name_fr"]},
            )
        for cat in categories.values():
            if cat.parent_id in categories:
                categories[cat.parent_id].children.append(cat)
        synonyms: dict[tuple[str, ...], list[tuple[str, ...]]] = {}

        def alias(phrase: str, target: str) -> None:
            key, words = plain_words(phrase), plain_words(target)
            if key and words and key != words and words not in synonyms.setdefault(key, []):
                synonyms[key].append(words)

        for row in await db.fetch("SELECT category_id, phrase FROM category_synonyms ORDER BY id"):
            if category := categories.get(row["category_id"]):
                category.synonyms.append(row["phrase"])
                alias(row["phrase"], category.names["en"])
        places: dict[int, Place] = {}
        place_names: dict[int, str] = {}
        for row in await db.fetch(
            "SELECT id, parent_id, level, slug, name, name_rw, name_fr, province_id, district_id, sector_id, "
            "latitude, longitude FROM locations ORDER BY name"
        ):
            place_names[row["id"]] = row["name"]
            if row["level"] == "cell":
                continue
            fields = dict(row)
            names = {"rw": fields.pop("name_rw"), "fr": fields.pop("name_fr")}
            translated = {"en": row["name"], **names} if any(names.values()) else {}
            place = places[row["id"]] = Place(**fields, names=translated)
            for lang, other in names.items():
                if other:
                    alias(other, place.name)  # "Intara y'Iburasirazuba" -> "Eastern Province"
                    if lang == "rw" and plain_words(other)[-1] not in plain_words(place.name):
                        alias(plain_words(other)[-1], place.name)  # "Iburasirazuba" alone
        for place in places.values():
            if place.parent_id in places:
                places[place.parent_id].children.append(place)
        self.categories, self.places, self.place_names, self.synonyms = categories, places, place_names, synonyms
        self.category_slugs = {c.slug: c for c in categories.values()}
        self.place_slugs = {p.slug: p for p in places.values()}
        self.loaded_at = time.monotonic()

    def top_categories(self) -> list[Category]:
        return [c for c in self.categories.values() if c.parent_id is None]

    def provinces(self) -> list[Place]:
        return [p for p in self.places.values() if p.level == "province"]

    def province_names(self, lang: str) -> list[PlaceName]:
        return [PlaceName(p.slug, p.label(lang)) for p in self.provinces()]

    def districts(self) -> list[Place]:
        return sorted((p for p in self.places.values() if p.level == "district"), key=lambda p: p.name)

    def category_ids(self, slug: str) -> list[int] | None:
        """The category and, for a top category, all its sub-categories; None if unknown."""
        category = self.category_slugs.get(slug)
        if category is None:
            return None
        return [category.id, *(c.id for c in category.children)]

    async def tree(self, lang: str) -> list[dict]:
        """Top categories with their sub-categories, names in `lang`, in display order."""
        await self.ensure_loaded()
        return [
            {
                "slug": top.slug,
                "icon": top.icon,
                "name": top.name(lang),
                "children": [{"id": c.id, "slug": c.slug, "name": c.name(lang)} for c in top.children],
            }
            for top in self.top_categories()
        ]

    @lag_tolerant
    async def counts(self) -> dict[str, dict[str, int]]:
        """Public businesses per category (own + sub-categories) and per place (all levels), cached."""

        async def load() -> dict[str, dict[str, int]]:
            by_category: dict[str, int] = {}
            for row in await db.fetch(
                """SELECT category_id, count(*) AS n FROM businesses
                   WHERE status = 'approved' AND is_active GROUP BY category_id"""
            ):
                category = self.categories.get(row["category_id"])
                while category is not None:
                    by_category[str(category.id)] = by_category.get(str(category.id), 0) + row["n"]
                    category = self.categories.get(category.parent_id) if category.parent_id else None
            by_place: dict[str, int] = {}
            for row in await db.fetch(
                """SELECT l.province_id, l.district_id, l.sector_id, count(*) AS n
                   FROM businesses b JOIN locations l ON l.id = b.location_id
                   WHERE b.status = 'approved' AND b.is_active
                   GROUP BY 1, 2, 3"""
            ):
                for key in ("province_id", "district_id", "sector_id"):
                    if row[key] is not None:
                        by_place[str(row[key])] = by_place.get(str(row[key]), 0) + row["n"]
            return {"category": by_category, "place": by_place}

        await self.ensure_loaded()
        version = await self.cache.version("search")
        value, _hit = await self.cache.get_or_load(f"counts:{version}", SEARCH_TTL, load)
        return value

    async def browse_heading(self, kind: str, slug: str, lang: str) -> BrowseHeading | None:
        """The heading of `/c/{slug}` (kind "category") or `/p/{slug}` ("place"); None if there is no such."""
        await self.ensure_loaded()
        if kind == "category":
            category = self.category_slugs.get(slug)
            if category is None:
                return None
            counts = (await self.counts())["category"]
            parent = self.categories.get(category.parent_id) if category.parent_id else None
            return BrowseHeading(
                kind=kind,
                title=category.name(lang),
                icon=category.icon,
                crumbs=[Link(f"/c/{parent.slug}", parent.name(lang))] if parent else [],
                children=[Link(f"/c/{c.slug}", c.name(lang), counts.get(str(c.id), 0)) for c in category.children],
                count=counts.get(str(category.id), 0),
                search_filter={"category": slug},
            )
        place = self.place_slugs.get(slug)
        if place is None:
            return None
        counts = (await self.counts())["place"]
        parents = [self.places.get(i) for i in (place.province_id, place.district_id) if i and i != place.id]
        return BrowseHeading(
            kind=kind,
            title=place.label(lang),
            icon="",
            crumbs=[Link(f"/p/{p.slug}", p.label(lang)) for p in parents if p],
            children=[
                Link(f"/p/{c.slug}", c.label(lang), counts.get(str(c.id), 0))
                for c in sorted(place.children, key=lambda c: c.label(lang))
            ],
            count=counts.get(str(place.id), 0),
            search_filter={place.level: slug},
        )

    async def place_choices(self, location_id: int | None, form: dict | None = None, *, lang: str = "en") -> dict:
        """The four place selects of the listing form: options at each level below what is chosen so far
        (from the stored place, then from the form's `<level>_id` fields, which win), named in `lang`."""
        await self.ensure_loaded()
        form = form or {}
        chosen: dict[str, int | None] = {"province": None, "district": None, "sector": None, "cell": None}
        if location_id:
            row = await db.fetchrow(
                "SELECT level, province_id, district_id, sector_id, id FROM locations WHERE id = $1", location_id
            )
            if row:
                chosen = {
                    "province": row["province_id"],
                    "district": row["district_id"],
                    "sector": row["sector_id"],
                    "cell": row["id"] if row["level"] == "cell" else None,
                }
        for level in ("province", "district", "sector", "cell"):
            value = str(form.get(f"{level}_id") or "")[:9]
            if value.isascii() and value.isdecimal():  # "²".isdigit() is True, int("²") fails
                chosen[level] = int(value)
        options = {"province": [(p.id, p.label(lang)) for p in self.provinces()]}
        parent = chosen["province"]
        for level in ("district", "sector"):
            options[level] = (
                sorted(
                    [(p.id, p.name) for p in self.places.values() if p.level == level and p.parent_id == parent],
                    key=lambda o: o[1],
                )
                if parent
                else []
            )
            if chosen[level] not in {o[0] for o in options[level]}:
                chosen[level] = None
            parent = chosen[level]
        options["cell"] = (
            [
                (r["id"], r["name"])
                for r in await db.fetch(
                    "SELECT id, name FROM locations WHERE level = 'cell' AND parent_id = $1 ORDER BY name",
                    chosen["sector"],
                )
            ]
            if chosen["sector"]
            else []
        )
        if chosen["cell"] not in {o[0] for o in options["cell"]}:
            chosen["cell"] = None
        return {"options": options, "chosen": chosen}
