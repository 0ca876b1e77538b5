"""The public API's response and request bodies: msgspec structs, the contract that OpenAPI documents.
Changing a field here changes `/api/v1/openapi.json`; add fields, never rename or remove them within v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

Tier = Literal["free", "basic", "premium"]
InquiryStatus = Literal["new", "read", "replied", "closed"]


class Links(msgspec.Struct, frozen=True):
    """Where this page is and the pages beside it (relative URLs, null at either end)."""

    self_: str = msgspec.field(name="self")
    next: str | None = None
    prev: str | None = None


class PhotoSize(msgspec.Struct, frozen=True):
    width: int
    webp: str
    jpeg: str


class Photo(msgspec.Struct, frozen=True):
    alt: str
    sizes: list[PhotoSize]  # every width this photo exists in, smallest first


class Named(msgspec.Struct, frozen=True):
    slug: str
    name: str


class BusinessSummary(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name: str
    rating: float
    review_count: int
    verified: bool
    category: Named
    place: str
    district: str | None
    photo: Photo | None
    distance_km: float | None
    url: str  # this business in the API
    web_url: str  # its page on the site


class FacetCount(msgspec.Struct, frozen=True):
    slug: str
    name: str
    count: int


class Facets(msgspec.Struct, frozen=True):
    categories: list[FacetCount]
    districts: list[FacetCount]
    rating_4: int  # matches rated 4 or more
    rating_3: int
    verified: int
    open_now: int


class SearchPage(msgspec.Struct, frozen=True):
    items: list[BusinessSummary]
    total: int
    page: int
    pages: int
    per_page: int
    corrected: str  # the query actually searched when a typo was corrected ("" otherwise)
    facets: Facets
    links: Links
    # True when more than `total` businesses match (broad searches stop counting at SEARCH_COUNT_CAP): `total`
    # and `pages` are then lower bounds and the facet counts come from the first `total` matches; follow
    # `links.next` to page on, without a depth limit.
    total_capped: bool = False


class Suggestion(msgspec.Struct, frozen=True):
    kind: str  # business | category | province | district | sector
    label: str
    web_url: str


class SuggestionList(msgspec.Struct, frozen=True):
    items: list[Suggestion]


class Interval(msgspec.Struct, frozen=True):
    opens: str  # "08:00", Kigali time
    closes: str


class DayHours(msgspec.Struct, frozen=True):
    day: str  # mon … sun
    intervals: list[Interval]  # empty: closed that day


class Service(msgspec.Struct, frozen=True):
    name: str
    price_rwf: int | None


class Review(msgspec.Struct, frozen=True):
    id: int
    author: str  # "First L."
    rating: int
    body: str
    created_at: datetime
    owner_reply: str | None
    owner_replied_at: datetime | None


class BusinessDetail(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name: str
    description: str
    verified: bool
    rating: float
    review_count: int
    category: Named
    parent_category: Named | None
    place: str
    sector: str | None
    district: Named | None
    province: Named | None
    address: str
    latitude: float | None
    longitude: float | None
    phone: str
    whatsapp: str
    email: str
    website: str
    momo_pay_code: str
    hours: list[DayHours] | None  # null when the business gave no hours
    open_now: bool | None  # null when unknown (no hours)
    services: list[Service]
    photos: list[Photo]
    response_minutes: float | None  # median time to a first reply to a message
    links: Links  # self, and `next` = its reviews


class ReviewPage(msgspec.Struct, frozen=True):
    items: list[Review]
    page: int
    per_page: int
    links: Links


class Subcategory(msgspec.Struct, frozen=True):
    slug: str
    name: str


class Category(msgspec.Struct, frozen=True):
    slug: str
    name: str
    icon: str
    children: list[Subcategory]


class CategoryList(msgspec.Struct, frozen=True):
    items: list[Category]


class Sector(msgspec.Struct, frozen=True):
    slug: str
    name: str


class District(msgspec.Struct, frozen=True):
    slug: str
    name: str
    sectors: list[Sector]


class Province(msgspec.Struct, frozen=True):
    slug: str
    name: str
    districts: list[District]


class PlaceTree(msgspec.Struct, frozen=True):
    items: list[Province]


# --- owners ----------------------------------------------------------------------------------------


class OwnerBusiness(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name: str
    status: str  # pending | approved | rejected | suspended
    unread: int  # new messages


class OwnerBusinessList(msgspec.Struct, frozen=True):
    items: list[OwnerBusiness]


class Inquiry(msgspec.Struct, frozen=True):
    id: int
    customer_name: str
    preview: str  # the message's first 140 characters
    status: InquiryStatus
    preferred_contact: str
    customer_phone: str
    customer_email: str
    created_at: datetime
    replied_at: datetime | None


class InquiryCounts(msgspec.Struct, frozen=True):
    new: int
    read: int
    replied: int
    closed: int
    all: int


class InquiryPage(msgspec.Struct, frozen=True):
    items: list[Inquiry]
    counts: InquiryCounts
    page: int
    per_page: int
    links: Links


class InquiryStatusChange(msgspec.Struct, frozen=True):
    status: InquiryStatus


class InquiryStatusResult(msgspec.Struct, frozen=True):
    id: int
    status: InquiryStatus


class MetricSummary(msgspec.Struct, frozen=True):
    key: str  # profile_view, search_impression, call_click, whatsapp_click, website_click, email_click, inquiry
    total: int
    previous: int  # the period of the same length just before
    change: float | None  # (total - previous) / previous; null when previous is 0


class StatsSummary(msgspec.Struct, frozen=True):
    days: int
    start: date
    end: date
    metrics: list[MetricSummary]


class Problem(msgspec.Struct, frozen=True):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, str]] | None = None
