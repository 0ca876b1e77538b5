"""Test data built through plain SQL on the migrated schema (no ORM shortcuts around constraints)."""

from __future__ import annotations

import itertools
import json

_counter = itertools.count(1)

HOURS = {
    "mon": [["08:00", "12:00"], ["14:00", "18:00"]],
    "tue": [["08:00", "18:00"]],
    "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]],
    "fri": [["08:00", "18:00"]],
    "sat": [["09:00", "13:00"]],
    "sun": [],
}


async def sub_category(conn, slug: str = "plumbers") -> dict:
    return dict(await conn.fetchrow("SELECT * FROM categories WHERE slug = $1", slug))


async def sector(conn, district: str = "Gasabo", name: str = "Kimironko") -> dict:
    return dict(
        await conn.fetchrow(
            """SELECT s.* FROM locations s JOIN locations d ON d.id = s.district_id
           WHERE s.level = 'sector' AND d.name = $1 AND s.name = $2""",
            district,
            name,
        )
    )


async def make_business(conn, **overrides) -> dict:
    n = next(_counter)
    category = overrides.pop("category", None) or await sub_category(conn)
    location = overrides.pop("location", None) or await sector(conn)
    values = {
        "business_name": f"Test Business {n}",
        "slug": f"test-business-{n}",
        "description_en": "We fix leaking pipes and install water tanks.",
        "description_rw": "Dusana amatiyo kandi dushyiraho ibigega by'amazi.",
        "description_fr": "Nous réparons les fuites et installons des réservoirs d'eau.",
        "category_id": category["id"],
        "location_id": location["id"],
        "status": "approved",
        "is_active": True,
        "is_featured": False,
        "is_verified": False,
        "phone": "+250788123456",
        "whatsapp_number": "+250788123456",
        "email": f"owner{n}@example.rw",
        "website": "",
        "address": "KG 11 Ave, Kimironko",
        "opening_hours": json.dumps(HOURS),
        "services": json.dumps(
            [
                {
                    "name_en": "Pipe repair",
                    "name_rw": "Gusana amatiyo",
                    "name_fr": "Réparation de tuyaux",
                    "price_rwf": 15000,
                }
            ]
        ),
        "momo_pay_code": "123456",
    }
    values.update(overrides)
    for key in ("opening_hours", "services"):
        if not isinstance(values[key], str):
            values[key] = json.dumps(values[key])
    columns = ", ".join(values)
    placeholders = ", ".join(
        f"${i}::jsonb" if key in ("opening_hours", "services") else f"${i}" for i, key in enumerate(values, start=1)
    )
    row = await conn.fetchrow(
        f"INSERT INTO businesses ({columns}) VALUES ({placeholders}) RETURNING *", *values.values()
    )
    return dict(row)
