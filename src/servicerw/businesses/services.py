"""Public business queries: only approved and active businesses are ever shown."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

from servicerw.businesses.tables import Business
from servicerw.core import db
from servicerw.core.cache import PROFILE_TTL, Cache
from servicerw.core.i18n import pick
from servicerw.core.storage import IMAGE_WIDTHS, Storage, variant_key
from servicerw.inquiries.services import median_response_minutes
from servicerw.reviews.services import latest_reviews

KIGALI = ZoneInfo("Africa/Kigali")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The cover photo: the chosen cover, else the first ready photo.
COVER_JOIN = """
LEFT JOIN LATERAL (
    SELECT i.storage_key, i.width, i.height FROM business_images i
    WHERE i.business_id = b.id AND i.status = 'ready'
    ORDER BY i.is_cover DESC, i.position LIMIT 1
) cover ON true
"""

CARD_COLUMNS = """
b.id, b.business_name, b.slug, b.average_rating, b.review_count, b.is_verified,
c.name_en AS category_en, c.name_rw AS category_rw, c.name_fr AS category_fr, c.slug AS category_slug,
l.name AS place, d.name AS district, cover.storage_key AS cover_key, cover.width AS cover_width
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def picture(storage: Storage, storage_key: str | None, alt: str, width: int | None = None) -> dict | None:
    """What a <picture> element needs: WebP and JPEG srcsets at the fixed widths this image has."""
    if not storage_key:
        return None
    widths = [w for w in IMAGE_WIDTHS if not width or w <= max(width, IMAGE_WIDTHS[0])]
    return {
        "alt": alt,
        "webp": ", ".join(f"{storage.url(variant_key(storage_key, w, 'webp'))} {w}w" for w in widths),
        "jpeg": ", ".join(f"{storage.url(variant_key(storage_key, w, 'jpg'))} {w}w" for w in widths),
        "src": storage.url(variant_key(storage_key, IMAGE_WIDTHS[0], "jpg")),
    }


def opening_state(hours: dict, now: datetime | None = None) -> bool:
    """Open right now in Rwanda's time zone? Hours are {"mon": [["08:00", "18:00"], ...], ...}."""
    now = (now or datetime.now(KIGALI)).astimezone(KIGALI)
    today = hours.get(DAYS[now.weekday()]) or []
    current = now.time()
    for start, end in today:
        start_t = time.fromisoformat(start)
        end_t = time(23, 59, 59) if end in ("24:00", "00:00") and start != end else time.fromisoformat(end)
        if start_t <= current <= end_t:
            return True
    return False


class BusinessService:
    def __init__(self, storage: Storage, cache: Cache) -> None:
        self.storage = storage
        self.cache = cache

    def card(self, row: dict, lang: str) -> dict:
        return {
            "id": row["id"],
            "name": row["business_name"],
            "slug": row["slug"],
            "rating": float(row["average_rating"] or 0),
            "review_count": row["review_count"],
            "verified": row["is_verified"],
            "category": pick(lang, row["category_en"], row["category_rw"], row["category_fr"]),
            "category_slug": row["category_slug"],
            "place": row["place"],
            "district": row["district"],
            "picture": picture(self.storage, row["cover_key"], row["business_name"], row["cover_width"]),
        }

    async def public_id(self, slug: str) -> int | None:
        """The id of a public (approved, active) business."""
        row = await db.fetchrow("SELECT id FROM businesses WHERE slug = $1 AND status = 'approved' AND is_active", slug)
        return row["id"] if row else None

    async def featured(self, lang: str, limit: int = 8) -> list[dict]:
        rows = await Business.raw(
            f"""SELECT {CARD_COLUMNS}
                FROM businesses b
                JOIN categories c ON c.id = b.category_id
                JOIN locations l ON l.id = b.location_id
                LEFT JOIN locations d ON d.id = l.district_id
                {COVER_JOIN}
                WHERE b.status = 'approved' AND b.is_active AND b.is_featured
                ORDER BY b.created_at DESC
                LIMIT {{}}""",
            limit,
        )
        return [self.card(row, lang) for row in rows]

    async def profile(self, slug: str, lang: str) -> dict | None:
        """The public profile (cached 1 h; `Cache.invalidate_business` drops it on change)."""
        key = self.cache.profile_key(slug, lang)
        business = await self.cache.get(key)
        if business is None:
            business = await self._load_profile(slug, lang)
            if business is None:
                return None
            await self.cache.set(key, business, PROFILE_TTL)
        hours = dict(business["hours"])
        business["open_now"] = opening_state(hours) if business["has_hours"] else None
        return business

    async def _load_profile(self, slug: str, lang: str) -> dict | None:
        rows = await Business.raw(
            """SELECT b.id, b.business_name, b.slug, b.description_en, b.description_rw, b.description_fr,
                      b.is_verified, b.phone, b.whatsapp_number, b.email, b.website, b.address,
                      b.latitude, b.longitude, b.opening_hours, b.services, b.momo_pay_code,
                      b.average_rating, b.review_count,
                      c.slug AS category_slug, c.name_en AS category_en, c.name_rw AS category_rw,
                      c.name_fr AS category_fr,
                      pc.slug AS parent_category_slug, pc.name_en AS parent_en, pc.name_rw AS parent_rw,
                      pc.name_fr AS parent_fr,
                      l.name AS place, l.slug AS place_slug, l.level AS place_level,
                      s.name AS sector, s.slug AS sector_slug, d.name AS district, d.slug AS district_slug,
                      p.name AS province, p.slug AS province_slug
               FROM businesses b
               JOIN categories c ON c.id = b.category_id
               LEFT JOIN categories pc ON pc.id = c.parent_id
               JOIN locations l ON l.id = b.location_id
               LEFT JOIN locations s ON s.id = l.sector_id
               LEFT JOIN locations d ON d.id = l.district_id
               LEFT JOIN locations p ON p.id = l.province_id
               WHERE b.slug = {} AND b.status = 'approved' AND b.is_active""",
            slug,
        )
        if not rows:
            return None
        row = rows[0]
        # The photos, newest reviews and response time are independent: asked at once (one round trip).
        images, reviews, response_minutes = await asyncio.gather(
            Business.raw(
                """SELECT storage_key, width, height, alt_text FROM business_images
                   WHERE business_id = {} AND status = 'ready' ORDER BY is_cover DESC, position LIMIT 12""",
                row["id"],
            ).run(),
            latest_reviews(row["id"]),
            median_response_minutes(row["id"]),
        )
        hours = _json(row["opening_hours"]) or {}
        services = _json(row["services"]) or []
        return {
            "id": row["id"],
            "name": row["business_name"],
            "slug": row["slug"],
            "description": pick(lang, row["description_en"], row["description_rw"], row["description_fr"]),
            "verified": row["is_verified"],
            "phone": row["phone"],
            "whatsapp_digits": "".join(ch for ch in row["whatsapp_number"] if ch.isdigit()),
            "whatsapp": row["whatsapp_number"],
            "email": row["email"],
            "website": row["website"],
            "address": row["address"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "momo_pay_code": row["momo_pay_code"],
            "rating": float(row["average_rating"] or 0),
            "review_count": row["review_count"],
            "category": pick(lang, row["category_en"], row["category_rw"], row["category_fr"]),
            "category_slug": row["category_slug"],
            "parent_category": pick(lang, row["parent_en"], row["parent_rw"], row["parent_fr"]),
            "parent_category_slug": row["parent_category_slug"],
            "place": row["place"],
            "sector": row["sector"],
            "district": row["district"],
            "district_slug": row["district_slug"],
            "province": row["province"],
            "province_slug": row["province_slug"],
            "hours": [(day, hours.get(day) or []) for day in DAYS],
            "has_hours": bool(hours),
            "services": [
                {
                    "name": pick(lang, s.get("name_en"), s.get("name_rw"), s.get("name_fr")),
                    "price_rwf": s.get("price_rwf"),
                }
                for s in services
            ],
            "pictures": [
                picture(self.storage, img["storage_key"], img["alt_text"] or row["business_name"]) for img in images
            ],
            "reviews": [{**r, "created_at": r["created_at"].date().isoformat()} for r in reviews],
            "response_minutes": response_minutes,
        }
