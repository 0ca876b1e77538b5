"""The public API's services.

`ApiKeyService` owns `api_keys`: owners create (shown once, stored as SHA-256) and revoke keys, operators set a
key's tier (with its audit entry), and every API request is matched to its key (`client`).

`ApiReader` answers the API (REST and GraphQL alike) from the services the pages use — `SearchService`,
`ProfileService`, `ReviewService`, `CatalogService`, `InquiryService`, `ListingService`, `DashboardService` — and
turns their typed results into the API's schemas (`api/schemas.py`). It runs no SQL of its own."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from servicerw.analytics.services import AnalyticsWriter
from servicerw.api import schemas as s
from servicerw.businesses.listing import ListingService
from servicerw.businesses.services import BusinessCard, Picture, Profile, ProfileService
from servicerw.catalog.services import CatalogService
from servicerw.core import audit, db
from servicerw.core.auth import OwnedBusiness
from servicerw.core.forms import FormErrors, has_control_characters
from servicerw.core.i18n import gettext as _
from servicerw.core.replicas import lag_tolerant
from servicerw.dashboard.services import DashboardService
from servicerw.inquiries.services import PAGE_SIZE as INQUIRY_PAGE_SIZE
from servicerw.inquiries.services import InquiryService
from servicerw.reviews.services import PAGE_SIZE as REVIEW_PAGE_SIZE
from servicerw.reviews.services import ReviewService, ReviewSummary
from servicerw.search.services import PAGE_SIZE as SEARCH_PAGE_SIZE
from servicerw.search.services import SearchParams, SearchService

TIERS = ("free", "basic", "premium")
KEY_PREFIX = "srw_"
PREFIX_SHOWN = 12  # characters kept to recognise a key: "srw_" + 8
NAME_MAX = 80
NOTE_MAX = 500
KEYS_PER_USER = 20  # active keys
ADMIN_PAGE_SIZE = 50


def hash_key(secret: str) -> str:
    """Keys are 256 random bits: a fast hash is enough (no dictionary to guess from), and lookups are exact."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiClient:
    """The key an API request came with, known to be valid (not revoked)."""

    key_id: int
    user_id: int
    tier: str
    active: bool  # the account behind it is active


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    tier: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    owner_email: str = ""

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key: `secret` is shown this once and never stored."""

    id: int
    prefix: str
    tier: str
    secret: str


@dataclass(frozen=True, slots=True)
class TierChange:
    key_id: int
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


_KEY_COLUMNS = "k.id, k.name, k.prefix, k.tier, k.created_at, k.last_used_at, k.revoked_at"


class ApiKeyService:
    async def create(self, user_id: int, name: str, tier: str = "free") -> CreatedKey:
        name = " ".join(name.split())
        if has_control_characters(name) or len(name) > NAME_MAX:
            raise FormErrors({"name": _("A name of at most %(max)d characters.", max=NAME_MAX)})
        if tier not in TIERS:
            raise FormErrors({"tier": _("Choose one of the offered plans.")})
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            # One owner's key creations in turn, so that the limit below cannot be passed by a burst.
            await conn.execute("SELECT pg_advisory_xact_lock(77011, $1)", user_id)
            active = await conn.fetchval(
                "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL", user_id
            )
            if active >= KEYS_PER_USER:
                raise FormErrors(
                    {"name": _("You have %(num)d active keys: revoke one first.", num=KEYS_PER_USER)}, status=409
                )
            key_id = await conn.fetchval(
                """INSERT INTO api_keys (user_id, name, prefix, key_hash, tier)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id""",
                user_id,
                name,
                secret[:PREFIX_SHOWN],
                hash_key(secret),
                tier,
            )
        return CreatedKey(id=key_id, prefix=secret[:PREFIX_SHOWN], tier=tier, secret=secret)

    async def create_for_email(self, email: str, tier: str, name: str = "script") -> CreatedKey:
        """For `servicerw api-key create`: LookupError when there is no active account with this email."""
        row = await db.fetchrow("SELECT id FROM users WHERE lower(email) = lower($1) AND is_active", email.strip())
        if row is None:
            raise LookupError(email)
        return await self.create(row["id"], name, tier)

    async def mine(self, user_id: int) -> list[KeyInfo]:
        rows = await db.fetch(
            f"""SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.user_id = $1
                ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC LIMIT 100""",
            user_id,
        )
        return [KeyInfo(**dict(r)) for r in rows]

    async def revoke(self, user_id: int, key_id: int) -> bool:
        """False when this user has no such active key."""
        result = await db.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            key_id,
            user_id,
        )
        return result.endswith(" 1")

    async def all_keys(self, q: str, page: int) -> list[KeyInfo]:
        """For the operators: keys (newest first), filtered by the owner's email or the key's prefix; one
        more than a page (tells whether there is a next one)."""
        q = q.strip()[:120]
        if has_control_characters(q):
            raise FormErrors({"q": _("Remove the control characters from the search.")}, status=400)
        needle = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
        rows = await db.fetch(
            f"""SELECT {_KEY_COLUMNS}, u.email AS owner_email
                FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE ($1 = '' OR lower(u.email) LIKE $2 OR k.prefix LIKE $3)
                ORDER BY k.created_at DESC, k.id DESC LIMIT $4 OFFSET $5""",
            q,
            needle,
            q.replace("%", "").replace("_", "") + "%",
            ADMIN_PAGE_SIZE + 1,
            (page - 1) * ADMIN_PAGE_SIZE,
        )
        return [KeyInfo(**dict(r)) for r in rows]

    async def get(self, key_id: int) -> KeyInfo | None:
        row = await db.fetchrow(
            f"SELECT {_KEY_COLUMNS}, u.email AS owner_email FROM api_keys k JOIN users u ON u.id = k.user_id "
            "WHERE k.id = $1",
            key_id,
        )
        return KeyInfo(**dict(row)) if row else None

    async def set_tier(self, key_id: int, tier: str, actor_id: int, note: str = "") -> TierChange:
        """An operator's decision, with its audit entry in the same transaction. LookupError: no such key."""
        note = note.strip()
        errors = {}
        if tier not in TIERS:
            errors["tier"] = _("Choose one of the offered plans.")
        if len(note) > NOTE_MAX or has_control_characters(note.replace("\n", "")):
            errors["note"] = _("A note of at most %(max)d characters.", max=NOTE_MAX)
        if errors:
            raise FormErrors(errors)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            before = await conn.fetchval("SELECT tier FROM api_keys WHERE id = $1 FOR UPDATE", key_id)
            if before is None:
                raise LookupError(key_id)
            if before != tier:
                await conn.execute("UPDATE api_keys SET tier = $2 WHERE id = $1", key_id, tier)
                await audit.record(
                    conn,
                    actor_id=actor_id,
                    action="api_key.tier",
                    target_type="api_key",
                    target_id=key_id,
                    before={"tier": before},
                    after={"tier": tier},
                    note=note,
                )
        return TierChange(key_id=key_id, before=before, after=tier)

    async def client(self, secret: str) -> ApiClient | None:
        """The valid key with this secret (None: unknown or revoked). Notes its use at most once a minute."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 100 or not secret.isascii():
            return None
        row = await db.fetchrow(
            """WITH k AS (
                   SELECT k.id, k.user_id, k.tier, u.is_active, k.last_used_at
                   FROM api_keys k JOIN users u ON u.id = k.user_id
                   WHERE k.key_hash = $1 AND k.revoked_at IS NULL
               ), used AS (
                   UPDATE api_keys SET last_used_at = now()
                   WHERE id = (SELECT id FROM k)
                     AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
               )
               SELECT id, user_id, tier, is_active FROM k""",
            hash_key(secret),
        )
        if row is None:
            return None
        return ApiClient(key_id=row["id"], user_id=row["user_id"], tier=row["tier"], active=row["is_active"])


# --- reading: the pages' services, the API's shapes ---------------------------------------------------


def photo(picture: Picture | None) -> s.Photo | None:
    """A <picture>'s srcsets ("url 320w, url 640w") as one entry per width."""
    if picture is None:
        return None

    def widths(srcset: str) -> dict[int, str]:
        found = {}
        for part in srcset.split(", "):
            url, _sep, width = part.rpartition(" ")
            if url and width.endswith("w") and width[:-1].isdecimal():
                found[int(width[:-1])] = url
        return found

    webp, jpeg = widths(picture.webp), widths(picture.jpeg)
    return s.Photo(
        alt=picture.alt,
        sizes=[s.PhotoSize(width=w, webp=webp[w], jpeg=jpeg.get(w, "")) for w in sorted(webp)],
    )


def summary(card: BusinessCard) -> s.BusinessSummary:
    return s.BusinessSummary(
        id=card.id,
        slug=card.slug,
        name=card.name,
        rating=card.rating,
        review_count=card.review_count,
        verified=card.verified,
        category=s.Named(slug=card.category_slug, name=card.category),
        place=card.place,
        district=card.district,
        photo=photo(card.picture),
        distance_km=card.distance_km,
        url=f"/api/v1/businesses/{card.slug}",
        web_url=f"/b/{card.slug}",
    )


def review(r: ReviewSummary) -> s.Review:
    return s.Review(
        id=r.id,
        author=r.author,
        rating=r.rating,
        body=r.body,
        created_at=r.created_at,
        owner_reply=r.owner_reply,
        owner_replied_at=r.owner_replied_at,
    )


def links(path: str, query: dict[str, object], page: int, has_next: bool) -> s.Links:
    def at(number: int) -> str:
        items = {k: v for k, v in query.items() if v not in ("", None)}
        if number > 1:
            items["page"] = number
        return path + (f"?{urlencode(items)}" if items else "")

    return s.Links(self_=at(page), next=at(page + 1) if has_next else None, prev=at(page - 1) if page > 1 else None)


def detail(profile: Profile) -> s.BusinessDetail:
    base = f"/api/v1/businesses/{profile.slug}"
    return s.BusinessDetail(
        id=profile.id,
        slug=profile.slug,
        name=profile.name,
        description=profile.description,
        verified=profile.verified,
        rating=profile.rating,
        review_count=profile.review_count,
        category=s.Named(slug=profile.category_slug, name=profile.category),
        parent_category=s.Named(slug=profile.parent_category_slug, name=profile.parent_category)
        if profile.parent_category_slug
        else None,
        place=profile.place,
        sector=profile.sector,
        district=s.Named(slug=profile.district_slug, name=profile.district or "") if profile.district_slug else None,
        province=s.Named(slug=profile.province_slug, name=profile.province or "") if profile.province_slug else None,
        address=profile.address,
        latitude=profile.latitude,
        longitude=profile.longitude,
        phone=profile.phone,
        whatsapp=profile.whatsapp,
        email=profile.email,
        website=profile.website,
        momo_pay_code=profile.momo_pay_code,
        hours=[
            s.DayHours(day=day, intervals=[s.Interval(opens=a, closes=b) for a, b in spans])
            for day, spans in profile.hours
        ]
        if profile.has_hours
        else None,
        open_now=profile.open_now,
        services=[s.Service(name=o.name, price_rwf=o.price_rwf) for o in profile.services],
        photos=[p for p in (photo(pic) for pic in profile.pictures) if p is not None],
        response_minutes=profile.response_minutes,
        links=s.Links(self_=base, next=f"{base}/reviews"),
    )


class Gone(Exception):
    """The business was public and an operator withdrew it (410)."""


@dataclass(frozen=True, slots=True)
class BusinessRef:
    """A public business as the API's nested reads need it (GraphQL resolvers)."""

    id: int
    slug: str


class ApiReader:
    def __init__(
        self,
        search: SearchService,
        profiles: ProfileService,
        reviews: ReviewService,
        catalog: CatalogService,
        inquiries: InquiryService,
        listings: ListingService,
        dashboard: DashboardService,
        analytics: AnalyticsWriter,
    ) -> None:
        self._search = search
        self._profiles = profiles
        self._reviews = reviews
        self.catalog = catalog
        self._inquiries = inquiries
        self._listings = listings
        self._dashboard = dashboard
        self._analytics = analytics

    # public data

    async def search_result(self, params: SearchParams, lang: str):
        """The search service's result (the pages' own), counted in the statistics as an API search."""
        result = await self._search.search(params, lang)
        self._analytics.search(
            query=params.q,
            corrected=result.corrected,
            filters=params.active_filters(),
            result_count=result.total,
            latency_ms=round(result.latency_ms, 2),
            language=lang,
            page=params.page,
            source="api",
        )
        self._analytics.impressions([item.id for item in result.items], "api", params.q)
        return result

    @lag_tolerant
    async def search(self, params: SearchParams, lang: str) -> s.SearchPage:
        result = await self.search_result(params, lang)
        facets = result.facets or {}
        query = dict(_query_items(params.query_string(page=1)))
        return s.SearchPage(
            items=[summary(card) for card in result.items],
            total=result.total,
            page=params.page,
            pages=result.pages,
            per_page=SEARCH_PAGE_SIZE,
            corrected=result.corrected,
            facets=s.Facets(
                categories=[s.FacetCount(**f) for f in facets.get("categories", [])],
                districts=[s.FacetCount(**f) for f in facets.get("districts", [])],
                rating_4=facets.get("rating_4", 0),
                rating_3=facets.get("rating_3", 0),
                verified=facets.get("verified", 0),
                open_now=facets.get("open_now", 0),
            ),
            links=links("/api/v1/search", query, params.page, result.more),
            total_capped=result.capped,
        )

    @lag_tolerant
    async def suggestions(self, q: str, lang: str) -> s.SuggestionList:
        items = await self._search.suggest(q, lang)
        return s.SuggestionList(items=[s.Suggestion(kind=i["kind"], label=i["label"], web_url=i["url"]) for i in items])

    async def profile(self, slug: str, lang: str) -> Profile:
        """LookupError when there is no such public business; Gone when it was withdrawn."""
        found = await self._profiles.profile(slug, lang)
        if found is None:
            if await self._profiles.withdrawn(slug):
                raise Gone(slug)
            raise LookupError(slug)
        return found

    @lag_tolerant
    async def business(self, slug: str, lang: str) -> s.BusinessDetail:
        return detail(await self.profile(slug, lang))

    async def review_list(self, business_id: int, page: int) -> tuple[list[s.Review], bool]:
        rows = await self._reviews.page(business_id, page)
        return [review(r) for r in rows[:REVIEW_PAGE_SIZE]], len(rows) > REVIEW_PAGE_SIZE

    @lag_tolerant
    async def reviews(self, slug: str, page: int, lang: str) -> s.ReviewPage:
        profile = await self.profile(slug, lang)
        items, has_next = await self.review_list(profile.id, page)
        return s.ReviewPage(
            items=items,
            page=page,
            per_page=REVIEW_PAGE_SIZE,
            links=links(f"/api/v1/businesses/{slug}/reviews", {}, page, has_next),
        )

    @lag_tolerant
    async def latest_reviews(self, business_ids: Sequence[int], per_business: int) -> dict[int, list[s.Review]]:
        """The newest reviews of many businesses at once (GraphQL's dataloader: one query for a page)."""
        found = await self._reviews.latest_many(list(business_ids), per_business)
        return {business_id: [review(r) for r in rows] for business_id, rows in found.items()}

    @lag_tolerant
    async def categories(self, lang: str) -> s.CategoryList:
        tree = await self.catalog.tree(lang)
        return s.CategoryList(
            items=[
                s.Category(
                    slug=top["slug"],
                    name=top["name"],
                    icon=top["icon"],
                    children=[s.Subcategory(slug=c["slug"], name=c["name"]) for c in top["children"]],
                )
                for top in tree
            ]
        )

    @lag_tolerant
    async def places(self, lang: str) -> s.PlaceTree:
        """Names in `lang` (provinces differ; districts and sectors are proper names)."""
        await self.catalog.ensure_loaded()

        def by_name(places):
            return sorted(places, key=lambda p: p.label(lang))

        return s.PlaceTree(
            items=[
                s.Province(
                    slug=province.slug,
                    name=province.label(lang),
                    districts=[
                        s.District(
                            slug=district.slug,
                            name=district.name,
                            sectors=[s.Sector(slug=x.slug, name=x.name) for x in by_name(district.children)],
                        )
                        for district in by_name(province.children)
                    ],
                )
                for province in by_name(self.catalog.provinces())
            ]
        )

    # owners

    async def owner_businesses(self, user_id: int) -> s.OwnerBusinessList:
        rows = await self._listings.mine(user_id)
        return s.OwnerBusinessList(
            items=[
                s.OwnerBusiness(
                    id=r["id"], slug=r["slug"], name=r["business_name"], status=r["status"], unread=r["unread"]
                )
                for r in rows
            ]
        )

    async def owned(self, business_id: int, user_id: int) -> OwnedBusiness | None:
        """The business if this key's owner may manage it (the same rule as the dashboard)."""
        return await self._listings.owned(business_id, user_id)

    async def inquiries(self, business: OwnedBusiness, status: str, page: int) -> s.InquiryPage:
        rows = await self._inquiries.inbox(business.id, status, page)
        counts = await self._inquiries.counts(business.id)
        return s.InquiryPage(
            items=[
                s.Inquiry(
                    id=r["id"],
                    customer_name=r["customer_name"],
                    preview=r["preview"],
                    status=r["status"],
                    preferred_contact=r["preferred_contact"],
                    customer_phone=r["customer_phone"] or "",
                    customer_email=r["customer_email"] or "",
                    created_at=r["created_at"],
                    replied_at=r["replied_at"],
                )
                for r in rows[:INQUIRY_PAGE_SIZE]
            ],
            counts=s.InquiryCounts(**{k: counts[k] for k in ("new", "read", "replied", "closed", "all")}),
            page=page,
            per_page=INQUIRY_PAGE_SIZE,
            links=links(
                f"/api/v1/owner/businesses/{business.id}/inquiries",
                {"status": status},
                page,
                len(rows) > INQUIRY_PAGE_SIZE,
            ),
        )

    async def set_inquiry_status(self, business: OwnedBusiness, inquiry_id: int, status: str) -> bool:
        return await self._inquiries.set_status(business.id, inquiry_id, status)

    async def stats(self, business: OwnedBusiness, days: int) -> s.StatsSummary:
        stats = await self._dashboard.stats(business.id, days)
        return s.StatsSummary(
            days=stats.days,
            start=stats.start,
            end=stats.end,
            metrics=[
                s.MetricSummary(key=m.key, total=m.total, previous=m.previous, change=m.change) for m in stats.metrics
            ],
        )


def _query_items(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return [(k, v) for k, v in parse_qsl(query) if k != "page"]
