"""Public business queries: only approved and active businesses are ever shown.

What leaves this domain is typed (msgspec structs, so that cached copies decode back to the same types):
`BusinessCard` (home page, search results), `Profile` (the public profile) and `ProfilePage` (what the
profile template shows). The profile's newest reviews, the reviewer's standing and the response time come
from the reviews and inquiries domains through the small protocols below: this module imports neither."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import msgspec

from servicerw.businesses.tables import Business
from servicerw.core import db
from servicerw.core.cache import PROFILE_TTL, Cache
from servicerw.core.i18n import pick
from servicerw.core.pagecache import unique_value
from servicerw.core.replicas import lag_tolerant, on_primary
from servicerw.core.storage import IMAGE_WIDTHS, Storage, variant_key

KIGALI = ZoneInfo("Africa/Kigali")
CARD_PHOTO_WIDTH = 96  # CSS px (components/business_card.html): a data-saver tap loads the 320 px variant
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The cover photo: the chosen cover, else the first ready photo.
COVER_JOIN = """
LEFT JOIN LATERAL (
    SELECT i.storage_key, i.width, i.height, i.variant_bytes FROM business_images i
    WHERE i.business_id = b.id AND i.status = 'ready'
    ORDER BY i.is_cover DESC, i.position LIMIT 1
) cover ON true
"""

# What `BusinessService.card` reads, named as in `business_search` (search results have the same names).
CARD_COLUMNS = """
b.id AS business_id, b.business_name, b.slug, b.average_rating AS rating, b.review_count, b.is_verified,
c.name_en AS category_en, c.name_rw AS category_rw, c.name_fr AS category_fr, c.slug AS category_slug,
l.name AS place, d.name AS district, cover.storage_key AS cover_key, cover.width AS cover_width,
cover.variant_bytes AS cover_bytes
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


class Picture(msgspec.Struct, frozen=True):
    """What a <picture> element needs: WebP and JPEG srcsets, the fallback JPEG and the alt text; for data-saver
    mode, the one variant a tap loads (`tap_src`), its byte size when recorded, and the box (`width` x
    `height`, the photo's aspect ratio) that the placeholder keeps so nothing moves when the photo arrives."""

    alt: str
    webp: str
    jpeg: str
    src: str
    tap_src: str = ""
    tap_bytes: int | None = None
    width: int = 640
    height: int = 480


def picture(
    storage: Storage,
    storage_key: str | None,
    alt: str,
    width: int | None = None,
    *,
    height: int | None = None,
    sizes: Any = None,
    box: int = 640,
    tap_width: int = 640,
) -> Picture | None:
    """The <picture> of a stored image, at the fixed widths this image has (None without an image). `sizes` is
    `business_images.variant_bytes`; `box` the widest the page shows it (CSS px); `tap_width` the widest variant
    a data-saver tap loads (WebP: every browser that honours Save-Data decodes it)."""
    if not storage_key:
        return None
    widths = [w for w in IMAGE_WIDTHS if not width or w <= max(width, IMAGE_WIDTHS[0])]
    tap = max([w for w in widths if w <= tap_width] or [IMAGE_WIDTHS[0]])
    shown = min(box, width) if width else box
    return Picture(
        alt=alt,
        webp=", ".join(f"{storage.url(variant_key(storage_key, w, 'webp'))} {w}w" for w in widths),
        jpeg=", ".join(f"{storage.url(variant_key(storage_key, w, 'jpg'))} {w}w" for w in widths),
        src=storage.url(variant_key(storage_key, IMAGE_WIDTHS[0], "jpg")),
        tap_src=storage.url(variant_key(storage_key, tap, "webp")),
        tap_bytes=(_json(sizes) or {}).get(f"{tap}.webp"),
        width=shown,
        height=max(1, round(shown * height / width)) if width and height else round(shown * 3 / 4),
    )


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


# --- cards ---------------------------------------------------------------------------------------


class BusinessCard(msgspec.Struct, frozen=True):
    """One business in a list: the home page's featured businesses, search and browse results (which
    cache their cards as JSON; `msgspec.convert` turns them back into cards). Built only by
    `BusinessService.card`."""

    id: int
    name: str
    slug: str
    rating: float
    review_count: int
    verified: bool
    category: str
    category_slug: str
    place: str
    district: str | None
    picture: Picture | None
    distance_km: float | None = None  # only in results searched near a point


class BusinessService:
    def __init__(self, storage: Storage, cache: Cache) -> None:
        self.storage = storage
        self.cache = cache

    def card(
        self, row: Mapping[str, Any], *, category: str, category_slug: str, place: str, district: str | None
    ) -> BusinessCard:
        """The one place a card is made. `row` has the card columns (`business_id`, `business_name`, `slug`,
        `rating`, `review_count`, `is_verified`, `cover_key`, `cover_width`, and `distance_km` when searched
        near a point); the names come in the visitor's language (the featured query and search find them
        differently)."""
        distance_km = row.get("distance_km")
        return BusinessCard(
            id=row["business_id"],
            name=row["business_name"],
            slug=row["slug"],
            rating=float(row["rating"] or 0),
            review_count=row["review_count"],
            verified=row["is_verified"],
            category=category,
            category_slug=category_slug,
            place=place,
            district=district,
            picture=picture(
                self.storage,
                row["cover_key"],
                row["business_name"],
                row["cover_width"],
                sizes=row.get("cover_bytes"),
                box=CARD_PHOTO_WIDTH,
                tap_width=IMAGE_WIDTHS[0],
            ),
            distance_km=round(distance_km, 1) if distance_km is not None else None,
        )

    @lag_tolerant
    async def public_id(self, slug: str) -> int | None:
        """The id of a public (approved, active) business."""
        row = await db.fetchrow("SELECT id FROM businesses WHERE slug = $1 AND status = 'approved' AND is_active", slug)
        return row["id"] if row else None

    @lag_tolerant
    async def featured(self, lang: str, limit: int = 8) -> list[BusinessCard]:
        rows = await Business.raw(
            f"""SELECT {CARD_COLUMNS}
                FROM businesses b
                JOIN categories c ON c.id = b.category_id
                JOIN locations l ON l.id = b.location_id
                LEFT JOIN locations d ON d.id = l.district_id
                {COVER_JOIN}
                WHERE b.status = 'approved' AND b.is_active AND b.is_featured
                  AND (b.featured_until IS NULL OR b.featured_until > now())
                ORDER BY b.created_at DESC
                LIMIT {{}}""",
            limit,
        )
        return [
            self.card(
                row,
                category=pick(lang, row["category_en"], row["category_rw"], row["category_fr"]),
                category_slug=row["category_slug"],
                place=row["place"],
                district=row["district"],
            )
            for row in rows
        ]


# --- the profile -----------------------------------------------------------------------------------
# What the profile needs from the reviews and inquiries domains, as protocols: `ReviewService` and
# `InquiryService` satisfy them and are passed in by the wiring point (`create_app`).


class PublishedReview(Protocol):
    """A published review as the profile shows it (the reviews domain's `ReviewSummary` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def author(self) -> str: ...
    @property
    def rating(self) -> int: ...
    @property
    def body(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def owner_reply(self) -> str | None: ...


class ReviewerStanding(Protocol):
    """What a logged-in visitor may do in the profile's review box (the reviews domain's `Standing`)."""

    @property
    def is_owner(self) -> bool: ...
    @property
    def review_status(self) -> str | None: ...


class ReviewSource(Protocol):
    async def latest(self, business_id: int) -> Sequence[PublishedReview]:
        """The newest approved reviews of a business, newest first."""
        ...

    async def standing(self, business_id: int, user_id: int) -> ReviewerStanding:
        """Whether this user owns the business, or has reviewed it (and how that review stands)."""
        ...


class ResponseTimeSource(Protocol):
    async def median_response_minutes(self, business_id: int) -> float | None:
        """Median minutes to a first reply (None when there are too few replies to tell)."""
        ...


class ServiceOffer(msgspec.Struct, frozen=True):
    name: str
    price_rwf: int | None


class ProfileReview(msgspec.Struct, frozen=True):
    """A review on the profile (the date only: the profile is cached as JSON)."""

    author: str
    rating: int
    body: str
    created_at: date
    owner_reply: str | None
    id: int = 0  # for its "Report" link (0 in a profile cached before ids were kept: no link)


class Profile(msgspec.Struct, frozen=True):
    """The public profile of a business, names in one language. Cached as JSON for an hour (the
    services' write methods drop it through `Cache.invalidate_business`); `open_now` is never cached,
    it is set on every read."""

    id: int
    name: str
    slug: str
    description: str
    verified: bool
    phone: str
    whatsapp_digits: str
    whatsapp: str
    email: str
    website: str
    address: str
    latitude: float | None
    longitude: float | None
    momo_pay_code: str
    rating: float
    review_count: int
    category: str
    category_slug: str
    parent_category: str
    parent_category_slug: str | None
    place: str
    sector: str | None
    district: str | None
    district_slug: str | None
    province: str | None
    province_slug: str | None
    hours: list[tuple[str, list[list[str]]]]  # (day, [[start, end], ...]) for every day of the week
    has_hours: bool
    services: list[ServiceOffer]
    pictures: list[Picture]
    reviews: list[ProfileReview]  # the newest few
    response_minutes: float | None
    open_now: bool | None = None
    claimable: bool = False  # no owner yet: the profile offers "Is this your business? Claim it"


def _fresh_inquiry() -> dict[str, Any]:
    # A new idempotency key per page: a double tap on "send" makes one message.
    # `unique_value`: a cached copy of the page gets a new key at each serve (core/pagecache.py).
    return {"form": {}, "errors": {}, "key": unique_value()}


def _fresh_review() -> dict[str, Any]:
    return {"form": {}, "errors": {}}


@dataclass(frozen=True)
class ProfilePage:
    """Everything the profile page (`businesses/profile.html`) shows: the profile, the visitor's review
    standing, and the state of its two forms (the inquiry and review controllers pass theirs back with
    errors). `context()` is the template context."""

    profile: Profile
    standing: ReviewerStanding | None
    logged_in: bool
    inquiry: dict[str, Any] = field(default_factory=_fresh_inquiry)
    review: dict[str, Any] = field(default_factory=_fresh_review)

    def context(self) -> dict[str, Any]:
        return {
            "b": self.profile,
            "standing": self.standing,
            "logged_in": self.logged_in,
            "inquiry": self.inquiry,
            "review": self.review,
        }


class ProfileService:
    """The public profile, assembled in one place: the business, its photos, its newest reviews and its
    response time (the last two from the sources it is given)."""

    def __init__(
        self, storage: Storage, cache: Cache, reviews: ReviewSource, response_times: ResponseTimeSource
    ) -> None:
        self.storage = storage
        self.cache = cache
        self.reviews = reviews
        self.response_times = response_times

    @lag_tolerant
    async def profile(self, slug: str, lang: str) -> Profile | None:
        """The public profile (cached 1 h; `Cache.invalidate_business` drops it on change)."""
        key = self.cache.profile_key(slug, lang)
        profile = _decoded(await self.cache.get(key), Profile)
        if profile is None:
            profile = await self._load(lang, slug=slug)
            if profile is None:
                return None
            await self.cache.set(key, msgspec.to_builtins(profile), PROFILE_TTL)
        open_now = opening_state(dict(profile.hours)) if profile.has_hours else None
        return msgspec.structs.replace(profile, open_now=open_now)

    @on_primary
    async def preview(self, business_id: int, lang: str) -> Profile | None:
        """The profile of a business in any status (pending, rejected, suspended...) as it would look once
        public: for its owner and the operators. Never cached (the public key holds public profiles only)."""
        profile = await self._load(lang, business_id=business_id)
        if profile is None:
            return None
        open_now = opening_state(dict(profile.hours)) if profile.has_hours else None
        return msgspec.structs.replace(profile, open_now=open_now)

    @lag_tolerant
    async def withdrawn(self, slug: str) -> bool:
        """Was this profile public and then suspended by an operator? (Its address answers 410, not 404.)"""
        row = await db.fetchrow("SELECT 1 FROM businesses WHERE slug = $1 AND status = 'suspended'", slug)
        return row is not None

    async def page(
        self,
        profile: Profile,
        user_id: int | None,
        *,
        inquiry: dict[str, Any] | None = None,
        review: dict[str, Any] | None = None,
    ) -> ProfilePage:
        """The profile page for this visitor: for a logged-in one, whether they may review the business;
        a fresh inquiry form and review form unless given."""
        standing = await self.reviews.standing(profile.id, user_id) if user_id else None
        forms = {k: v for k, v in (("inquiry", inquiry), ("review", review)) if v is not None}
        return ProfilePage(profile, standing, user_id is not None, **forms)

    async def _load(self, lang: str, *, slug: str | None = None, business_id: int | None = None) -> Profile | None:
        """By slug: the public (approved, active) business only; by id: in any status (previews)."""
        if slug is not None:
            where, key = "b.slug = {} AND b.status = 'approved' AND b.is_active", slug
        else:
            where, key = "b.id = {}", business_id
        rows = await Business.raw(
            """SELECT b.id, b.business_name, b.slug, b.description_en, b.description_rw, b.description_fr,
                      b.is_verified, b.phone, b.whatsapp_number, b.email, b.website, b.address,
                      b.latitude, b.longitude, b.opening_hours, b.services, b.momo_pay_code,
                      b.average_rating, b.review_count, b.owner_id IS NULL AS ownerless,
                      c.slug AS category_slug, c.name_en AS category_en, c.name_rw AS category_rw,
                      c.name_fr AS category_fr,
                      pc.slug AS parent_category_slug, pc.name_en AS parent_en, pc.name_rw AS parent_rw,
                      pc.name_fr AS parent_fr,
                      l.name AS place, l.slug AS place_slug, l.level AS place_level,
                      s.name AS sector, s.slug AS sector_slug, d.name AS district, d.slug AS district_slug,
                      p.name AS province, p.name_rw AS province_rw, p.name_fr AS province_fr,
                      p.slug AS province_slug
               FROM businesses b
               JOIN categories c ON c.id = b.category_id
               LEFT JOIN categories pc ON pc.id = c.parent_id
               JOIN locations l ON l.id = b.location_id
               LEFT JOIN locations s ON s.id = l.sector_id
               LEFT JOIN locations d ON d.id = l.district_id
               LEFT JOIN locations p ON p.id = l.province_id
               WHERE """
            + where,
            key,
        )
        if not rows:
            return None
        row = rows[0]
        # The photos, newest reviews and response time are independent: asked at once (one round trip).
        images, reviews, response_minutes = await asyncio.gather(
            Business.raw(
                """SELECT storage_key, width, height, alt_text, variant_bytes FROM business_images
                   WHERE business_id = {} AND status = 'ready' ORDER BY is_cover DESC, position LIMIT 12""",
                row["id"],
            ).run(),
            self.reviews.latest(row["id"]),
            self.response_times.median_response_minutes(row["id"]),
        )
        hours = _json(row["opening_hours"]) or {}
        services = _json(row["services"]) or []
        return Profile(
            id=row["id"],
            name=row["business_name"],
            slug=row["slug"],
            description=pick(lang, row["description_en"], row["description_rw"], row["description_fr"]),
            verified=row["is_verified"],
            phone=row["phone"],
            whatsapp_digits="".join(ch for ch in row["whatsapp_number"] if ch.isdigit()),
            whatsapp=row["whatsapp_number"],
            email=row["email"],
            website=row["website"],
            address=row["address"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            momo_pay_code=row["momo_pay_code"],
            rating=float(row["average_rating"] or 0),
            review_count=row["review_count"],
            category=pick(lang, row["category_en"], row["category_rw"], row["category_fr"]),
            category_slug=row["category_slug"],
            parent_category=pick(lang, row["parent_en"], row["parent_rw"], row["parent_fr"]),
            parent_category_slug=row["parent_category_slug"],
            place=row["place"],
            sector=row["sector"],
            district=row["district"],
            district_slug=row["district_slug"],
            province=pick(lang, row["province"], row["province_rw"], row["province_fr"]),
            province_slug=row["province_slug"],
            hours=[(day, hours.get(day) or []) for day in DAYS],
            has_hours=bool(hours),
            services=[
                ServiceOffer(
                    name=pick(lang, s.get("name_en"), s.get("name_rw"), s.get("name_fr")),
                    price_rwf=s.get("price_rwf"),
                )
                for s in services
            ],
            pictures=[
                picture(
                    self.storage,
                    img["storage_key"],
                    img["alt_text"] or row["business_name"],
                    img["width"],
                    height=img["height"],
                    sizes=img["variant_bytes"],
                )
                for img in images
            ],
            reviews=[
                ProfileReview(
                    id=r.id,
                    author=r.author,
                    rating=r.rating,
                    body=r.body,
                    created_at=r.created_at.date(),
                    owner_reply=r.owner_reply,
                )
                for r in reviews
            ],
            response_minutes=response_minutes,
            claimable=row["ownerless"],
        )


def _decoded(value: Any, kind: type[msgspec.Struct]) -> Any:
    """A cached value as its type again; None when missing or cached by an older version (then reloaded)."""
    if value is None:
        return None
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return None
