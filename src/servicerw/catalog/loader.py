"""Loads the reference data (categories, Rwanda's places) into the database.

Used by the catalog data migration, so every database built by `servicerw migrate` has them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources

from servicerw.catalog.reference_data import CATEGORIES, DISTRICT_CENTRES, PROVINCE_NAMES, SYNONYMS

_JOINED = re.compile(r"(?<=[a-z])(?=[A-Z])")  # "RukiriIi": words glued together in the raw data
_ROMAN = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def place_name(raw: str) -> str:
    """A place's name as people write it, from rwalocation's spelling: sectors come in capitals ("BUREGA") and
    some cells glued ("RukiriIi", "RangoA", "NyamataYUmujyi"), which `str.title()` made "Rukiriii", "Rangoa",
    "Nyamatayumujyi". Words are split apart; Roman numerals and single letters stay capitals ("Rukiri II",
    "Rango A"); the glued "y'" of Kinyarwanda names comes back ("Nyamata y'Umujyi")."""
    words = []
    for word in _JOINED.sub(" ", raw.strip()).split():
        if word.upper() in _ROMAN or len(word) == 1:
            words.append(word.upper())
        elif glued := re.fullmatch(r"([Yy])([A-Z][a-z]+)", word):
            words.append(f"y'{glued[2]}")
        else:
            words.append(word.title())
    return " ".join(words)


def location_rows() -> list[dict]:
    """Province, district, sector and cell rows (villages are too fine for browsing) in load order."""
    data = json.loads(resources.files("rwalocation").joinpath("data.json").read_text(encoding="utf-8"))
    rows: dict[str, dict] = {}
    for r in data:
        p_code, d_code = str(r["province_code"]), str(r["district_code"])
        s_code, c_code = str(r["sector_code"]), str(r["cell_code"])
        lat, lng = DISTRICT_CENTRES[int(d_code)]
        district = place_name(r["district_name"])
        sector = place_name(r["sector_name"])
        cell = place_name(r["cell_name"])
        province = PROVINCE_NAMES[int(p_code)]["en"]
        rows.setdefault(
            p_code,
            dict(
                level="province",
                code=p_code,
                name=province,
                names=PROVINCE_NAMES[int(p_code)],
                slug=slugify(province),
                parent_code=None,
                lat=None,
                lng=None,
            ),
        )
        rows.setdefault(
            d_code,
            dict(
                level="district",
                code=d_code,
                name=district,
                slug=slugify(district),
                parent_code=p_code,
                lat=lat,
                lng=lng,
            ),
        )
        rows.setdefault(
            s_code,
            dict(
                level="sector",
                code=s_code,
                name=sector,
                slug=slugify(f"{district}-{sector}"),
                parent_code=d_code,
                lat=lat,
                lng=lng,
            ),
        )
        rows.setdefault(
            c_code,
            dict(
                level="cell",
                code=c_code,
                name=cell,
                slug=slugify(f"{district}-{sector}-{cell}"),
                parent_code=s_code,
                lat=lat,
                lng=lng,
            ),
        )
    order = {"province": 0, "district": 1, "sector": 2, "cell": 3}
    return sorted(rows.values(), key=lambda row: (order[row["level"]], row["code"]))


async def load_locations(conn) -> int:
    """Insert all places level by level; `conn` is an asyncpg connection (inside a transaction)."""
    rows = location_rows()
    for level in ("province", "district", "sector", "cell"):
        batch = [r for r in rows if r["level"] == level]
        await conn.execute(
            """
            INSERT INTO locations (level, code, name, slug, parent_id, latitude, longitude)
            SELECT $1, t.code, t.name, t.slug, p.id, t.lat, t.lng
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[])
                 AS t(code, name, slug, parent_code, lat, lng)
            LEFT JOIN locations p ON p.code = t.parent_code
            """,
            level,
            [r["code"] for r in batch],
            [r["name"] for r in batch],
            [r["slug"] for r in batch],
            [r["parent_code"] for r in batch],
            [r["lat"] for r in batch],
            [r["lng"] for r in batch],
        )
    await conn.execute("UPDATE locations SET province_id = id WHERE level = 'province'")
    await conn.execute("UPDATE locations SET province_id = parent_id, district_id = id WHERE level = 'district'")
    await conn.execute(
        """UPDATE locations s SET province_id = d.province_id, district_id = d.id, sector_id = s.id
           FROM locations d WHERE s.level = 'sector' AND d.id = s.parent_id"""
    )
    await conn.execute(
        """UPDATE locations c SET province_id = s.province_id, district_id = s.district_id, sector_id = s.id
           FROM locations s WHERE c.level = 'cell' AND s.id = c.parent_id"""
    )
    return len(rows)


async def load_categories(conn) -> int:
    count = 0
    for top_order, (slug, icon, en, rw, fr, children) in enumerate(CATEGORIES):
        parent_id = await conn.fetchval(
            """INSERT INTO categories (parent_id, slug, name_en, name_rw, name_fr, icon, sort_order)
               VALUES (NULL, $1, $2, $3, $4, $5, $6) RETURNING id""",
            slug,
            en,
            rw,
            fr,
            icon,
            top_order,
        )
        await conn.executemany(
            """INSERT INTO categories (parent_id, slug, name_en, name_rw, name_fr, icon, sort_order)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [(parent_id, c_slug, c_en, c_rw, c_fr, icon, i) for i, (c_slug, c_en, c_rw, c_fr) in enumerate(children)],
        )
        count += 1 + len(children)
    return count


async def sync_locations(conn) -> list[int]:
    """Bring existing places in line with `location_rows()` (by official code): the names (corrected cells,
    provinces in Kinyarwanda and French) and the slugs of cells, which are never in a URL (only provinces,
    districts and sectors have pages; their slugs never change). Returns the ids of places whose name
    changed; the search vectors of businesses there are rebuilt (once the businesses table exists: on a new
    database the catalog migrates first)."""
    rows = location_rows()
    changed = await conn.fetch(
        """
        UPDATE locations l
           SET name = t.name, name_rw = t.name_rw, name_fr = t.name_fr,
               slug = CASE WHEN l.level = 'cell' THEN t.slug ELSE l.slug END
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                   AS t(code, name, name_rw, name_fr, slug),
               locations before
         WHERE l.code = t.code AND before.id = l.id
           AND (before.name, before.name_rw, before.name_fr, before.slug)
               IS DISTINCT FROM (t.name, t.name_rw, t.name_fr, CASE WHEN l.level = 'cell' THEN t.slug ELSE l.slug END)
        RETURNING l.id, before.name <> t.name AS renamed
        """,
        [r["code"] for r in rows],
        [r["name"] for r in rows],
        [r.get("names", {}).get("rw") for r in rows],
        [r.get("names", {}).get("fr") for r in rows],
        [r["slug"] for r in rows],
    )
    renamed = [r["id"] for r in changed if r["renamed"]]
    if renamed and await conn.fetchval("SELECT to_regclass('public.businesses') IS NOT NULL"):
        # The vector trigger runs on a change of location_id; business_search follows.
        await conn.execute(
            """UPDATE businesses SET location_id = location_id
               WHERE location_id IN (SELECT id FROM locations WHERE id = ANY($1::int[])
                                     OR sector_id = ANY($1::int[]) OR district_id = ANY($1::int[]))""",
            renamed,
        )
    return renamed


async def sync_synonyms(conn) -> int:
    """Make `category_synonyms` exactly `SYNONYMS` (run by a data migration whenever the list changes)."""
    rows = [
        (slug, lang, phrase.strip())
        for slug, by_lang in SYNONYMS.items()
        for lang, phrases in by_lang.items()
        for phrase in phrases
    ]
    await conn.execute("DELETE FROM category_synonyms")
    await conn.execute(
        """INSERT INTO category_synonyms (category_id, lang, phrase)
           SELECT c.id, t.lang, t.phrase
           FROM unnest($1::text[], $2::text[], $3::text[]) AS t(slug, lang, phrase)
           JOIN categories c ON c.slug = t.slug""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )
    return len(rows)
