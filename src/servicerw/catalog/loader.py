"""Loads the reference data (categories, Rwanda's places) into the database.

Used by the catalog data migration, so every database built by `servicerw migrate` has them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources

from servicerw.catalog.reference_data import CATEGORIES, DISTRICT_CENTRES, PROVINCE_NAMES


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def location_rows() -> list[dict]:
    """Province, district, sector and cell rows (villages are too fine for browsing) in load order."""
    data = json.loads(resources.files("rwalocation").joinpath("data.json").read_text(encoding="utf-8"))
    rows: dict[str, dict] = {}
    for r in data:
        p_code, d_code = str(r["province_code"]), str(r["district_code"])
        s_code, c_code = str(r["sector_code"]), str(r["cell_code"])
        lat, lng = DISTRICT_CENTRES[int(d_code)]
        district = r["district_name"].strip().title()
        sector = r["sector_name"].strip().title()
        cell = r["cell_name"].strip().title()
        province = PROVINCE_NAMES[int(p_code)]
        rows.setdefault(
            p_code,
            dict(
                level="province",
                code=p_code,
                name=province,
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
