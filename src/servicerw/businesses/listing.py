"""Owners manage their listings: create (pending until approved), edit with per-field validation.

Owners never set status, verification, featuring or ratings: only the columns in EDITABLE are ever
written from a form. On an approved listing, a new name, category or place waits for moderation in
`business_changes`; everything else applies at once (and the caches are invalidated).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from servicerw.catalog.loader import slugify
from servicerw.core import audit, db
from servicerw.core.addresses import valid_email
from servicerw.core.auth import INT4_MAX, OwnedBusiness
from servicerw.core.cache import Cache
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODERATED = ("business_name", "category_id", "location_id")
EDITABLE = (
    "business_name",
    "category_id",
    "location_id",
    "description_en",
    "description_rw",
    "description_fr",
    "phone",
    "whatsapp_number",
    "email",
    "website",
    "address",
    "latitude",
    "longitude",
    "opening_hours",
    "services",
    "momo_pay_code",
)
MAX_SERVICES = 12
PHONE_RE = re.compile(r"^\+?[0-9]{9,15}$")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
# Rwanda's bounding box (with a margin): a pin outside it is a mistake.
LAT_RANGE, LNG_RANGE = (-2.9, -1.0), (28.8, 30.95)


def _text(form: dict, name: str, limit: int) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _digits_phone(value: str) -> str:
    return re.sub(r"[\s\-()]", "", value)


def parse_hours(form: dict, errors: dict[str, str]) -> dict[str, list[list[str]]]:
    """Form fields `<day>_closed`, `<day>_open1`, `<day>_close1`, `<day>_open2`, `<day>_close2`; with
    `weekdays_same`, Monday's hours apply to Tuesday-Friday too (several days at once)."""
    hours: dict[str, list[list[str]]] = {}
    same = form.get("weekdays_same") in ("1", "on", "true")
    for day in DAYS:
        source = "mon" if same and day in ("tue", "wed", "thu", "fri") else day
        if form.get(f"{source}_closed") in ("1", "on", "true"):
            hours[day] = []
            continue
        spans = []
        for n in (1, 2):
            start, end = _text(form, f"{source}_open{n}", 5), _text(form, f"{source}_close{n}", 5)
            if not start and not end:
                continue
            if not (TIME_RE.match(start) and TIME_RE.match(end)):
                errors["hours"] = _("Write opening hours as 08:00 to 18:00.")
                continue
            if end <= start and end != "00:00":
                errors["hours"] = _("A closing time must come after the opening time.")
                continue
            spans.append([start, end])
        if len(spans) == 2 and spans[1][0] < spans[0][1]:
            errors["hours"] = _("The second opening of a day must start after the first one ends.")
        hours[day] = spans
    if not any(hours.values()):
        return {}
    return hours


def parse_services(form: dict, errors: dict[str, str]) -> list[dict]:
    services = []
    for n in range(MAX_SERVICES):
        names = {lang: _text(form, f"service{n}_name_{lang}", 120) for lang in ("en", "rw", "fr")}
        price_raw = _text(form, f"service{n}_price", 12).replace(",", "").replace(" ", "")
        if not any(names.values()) and not price_raw:
            continue
        if not any(names.values()):
            errors["services"] = _("Give each service a name.")
            continue
        price = None
        if price_raw:
            # ASCII digits only: "²".isdigit() is True but int("²") raises
            if (
                not (price_raw.isascii() and price_raw.isdigit() and len(price_raw) <= 9)
                or not 0 < int(price_raw) <= 100_000_000
            ):
                errors["services"] = _("Prices are whole numbers of Rwandan francs, like 5000.")
                continue
            price = int(price_raw)
        services.append({**{f"name_{k}": v for k, v in names.items()}, "price_rwf": price})
    return services


@dataclass(frozen=True, slots=True)
class ListingState:
    """Where a listing stands with the operators, as its owner sees it: the status and, for a rejected or
    suspended listing, the operator's reason."""

    status: str
    reason: str


class ListingService:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def owned(self, business_id: int, user_id: int) -> OwnedBusiness | None:
        """The business if this user may manage it (its owner, or an administrator)."""
        row = await db.fetchrow(
            """SELECT b.id, b.slug, b.status, b.business_name FROM businesses b, users u
               WHERE b.id = $1 AND u.id = $2 AND u.is_active AND (b.owner_id = u.id OR u.role = 'admin')""",
            business_id,
            user_id,
        )
        return OwnedBusiness(**dict(row)) if row else None

    async def mine(self, user_id: int) -> list[dict]:
        rows = await db.fetch(
            """SELECT b.id, b.business_name, b.slug, b.status, b.status_reason, b.is_active, b.review_count,
                      b.average_rating,
                      (SELECT count(*) FROM business_changes c WHERE c.business_id = b.id AND c.status = 'pending')
                          AS pending_changes,
                      (SELECT count(*) FROM customer_inquiries i WHERE i.business_id = b.id AND i.status = 'new')
                          AS unread
               FROM businesses b WHERE b.owner_id = $1 ORDER BY b.created_at DESC""",
            user_id,
        )
        return [dict(r) for r in rows]

    async def state(self, business_id: int) -> ListingState:
        row = await db.fetchrow("SELECT status, status_reason FROM businesses WHERE id = $1", business_id)
        return ListingState(row["status"], row["status_reason"])

    async def values(self, business_id: int) -> dict:
        row = await db.fetchrow(f"SELECT {', '.join(EDITABLE)} FROM businesses WHERE id = $1", business_id)
        values = dict(row)
        for key in ("opening_hours", "services"):
            if isinstance(values[key], str):
                values[key] = json.loads(values[key])
        return values

    async def validate(self, form: dict) -> dict:
        """Form fields to column values; FormErrors with a clear message per field."""
        errors: dict[str, str] = {}
        values: dict = {
            "business_name": _text(form, "business_name", 160),
            "description_en": _text(form, "description_en", 2000),
            "description_rw": _text(form, "description_rw", 2000),
            "description_fr": _text(form, "description_fr", 2000),
            "phone": _digits_phone(_text(form, "phone", 25)),
            "whatsapp_number": _digits_phone(_text(form, "whatsapp_number", 25)),
            "email": _text(form, "email", 254).lower(),
            "website": _text(form, "website", 255),
            "address": _text(form, "address", 255),
            "momo_pay_code": _text(form, "momo_pay_code", 20),
        }
        if len(values["business_name"]) < 2:
            errors["business_name"] = _("Enter the name of the business.")
        category = await db.fetchrow(
            "SELECT id FROM categories WHERE id = $1 AND parent_id IS NOT NULL", _int(form.get("category_id"))
        )
        if category is None:
            errors["category_id"] = _("Choose what the business does.")
        place_id = next((_int(form.get(k)) for k in ("cell_id", "sector_id") if _int(form.get(k))), None)
        place = (
            await db.fetchrow("SELECT id FROM locations WHERE id = $1 AND level IN ('sector', 'cell')", place_id)
            if place_id
            else None
        )
        if place is None:
            errors["location_id"] = _("Choose the sector (and cell if you know it) where customers find you.")
        values["category_id"] = category["id"] if category else None
        values["location_id"] = place["id"] if place else None
        if not any(values[f"description_{lang}"] for lang in ("en", "rw", "fr")):
            errors["description"] = _("Describe the business in at least one language.")
        if not PHONE_RE.match(values["phone"]):
            errors["phone"] = _("Enter a phone number like +250 788 123 456.")
        if values["whatsapp_number"] and not PHONE_RE.match(values["whatsapp_number"]):
            errors["whatsapp_number"] = _("Enter a phone number like +250 788 123 456.")
        if values["email"]:
            checked = valid_email(values["email"])
            if checked is None:
                errors["email"] = _("Enter a valid email address.")
            else:
                values["email"] = checked
        if values["website"]:
            parts = urlsplit(values["website"] if "://" in values["website"] else "https://" + values["website"])
            if parts.scheme not in ("http", "https") or "." not in parts.netloc:
                errors["website"] = _("Enter a web address like https://example.rw.")
            else:
                values["website"] = parts.geturl()
        if values["momo_pay_code"] and not (values["momo_pay_code"].isascii() and values["momo_pay_code"].isdigit()):
            errors["momo_pay_code"] = _("A MoMo Pay code has digits only.")
        lat, lng = _text(form, "latitude", 20), _text(form, "longitude", 20)
        values["latitude"] = values["longitude"] = None
        if lat or lng:
            try:
                values["latitude"], values["longitude"] = float(lat), float(lng)
                if not (
                    LAT_RANGE[0] <= values["latitude"] <= LAT_RANGE[1]
                    and LNG_RANGE[0] <= values["longitude"] <= LNG_RANGE[1]
                ):
                    raise ValueError
            except ValueError:
                errors["map"] = _("The map pin must be in Rwanda.")
                values["latitude"] = values["longitude"] = None
        values["opening_hours"] = parse_hours(form, errors)
        values["services"] = parse_services(form, errors)
        if errors:
            raise FormErrors(errors)
        return values

    async def create(self, user_id: int, values: dict) -> int:
        """A new listing, pending until an administrator approves it; the creator becomes an owner."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            listing = await insert_listing(conn, values, owner_id=user_id, status="pending")
            await conn.execute("UPDATE users SET role = 'owner' WHERE id = $1 AND role = 'customer'", user_id)
        return listing.id

    async def update(self, business: OwnedBusiness, user_id: int, values: dict) -> str:
        """Saves the changes. Returns "moderation" when some of them wait for moderation, "resubmitted" when
        a rejected listing goes back to the queue of new listings (its reason kept for the operator), else "1"."""
        current = await self.values(business.id)
        held = {}
        if business.status == "approved":
            held = {k: values[k] for k in MODERATED if values[k] != current[k]}
        applied = [k for k in EDITABLE if k not in held]
        async with db.engine().pool.acquire() as conn, conn.transaction():
            resubmitted = await conn.fetchval(
                "UPDATE businesses SET status = 'pending' WHERE id = $1 AND status = 'rejected' RETURNING id",
                business.id,
            )
            if resubmitted:
                await audit.record(
                    conn,
                    actor_id=user_id,
                    action="business.resubmit",
                    target_type="business",
                    target_id=business.id,
                    before={"status": "rejected"},
                    after={"status": "pending"},
                )
            await conn.execute(
                f"""UPDATE businesses SET {", ".join(f"{k} = ${i}" for i, k in enumerate(applied, start=2))},
                           updated_at = now()
                    WHERE id = $1""",
                business.id,
                *[_db_value(k, values[k]) for k in applied],
            )
            if held:
                await conn.execute(
                    "UPDATE business_changes SET status = 'superseded' WHERE business_id = $1 AND status = 'pending'",
                    business.id,
                )
                await conn.execute(
                    "INSERT INTO business_changes (business_id, user_id, changes) VALUES ($1, $2, $3::jsonb)",
                    business.id,
                    user_id,
                    json.dumps(held),
                )
        await self.cache.invalidate_business(business.slug)
        return "moderation" if held else "resubmitted" if resubmitted else "1"


@dataclass(frozen=True, slots=True)
class NewListing:
    id: int
    slug: str


async def insert_listing(conn, values: dict, *, owner_id: int | None, status: str) -> NewListing:
    """Insert a listing from validated `values` (`ListingService.validate`) on `conn`, in the caller's
    transaction, with a slug made from its name and district. Owners' listings start "pending"; an
    operator's listing without an owner (claims/) starts "approved"."""
    base = slugify(values["business_name"])[:150] or "business"
    district = await conn.fetchval(
        "SELECT d.slug FROM locations l JOIN locations d ON d.id = l.district_id WHERE l.id = $1",
        values["location_id"],
    )
    slug = f"{base}-{district}" if district else base
    while await conn.fetchval("SELECT 1 FROM businesses WHERE slug = $1", slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    business_id = await conn.fetchval(
        f"""INSERT INTO businesses (slug, status, owner_id, {", ".join(EDITABLE)})
            VALUES ($1, $2, $3, {", ".join(f"${i}" for i in range(4, 4 + len(EDITABLE)))})
            RETURNING id""",
        slug,
        status,
        owner_id,
        *[_db_value(k, values.get(k)) for k in EDITABLE],
    )
    return NewListing(business_id, slug)


def _int(value) -> int | None:
    """An id from a form, or None (ids are PostgreSQL integers: a larger number cannot be one, and asyncpg
    would refuse to send it)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= INT4_MAX else None


def _db_value(key: str, value):
    return json.dumps(value) if key in ("opening_hours", "services") else value
