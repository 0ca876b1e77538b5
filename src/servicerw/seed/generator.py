"""Deterministic synthetic data at the plan's volume, loaded with PostgreSQL COPY.

`seed(dsn)` fills users (customers and business owners), businesses, reviews, customer inquiries and
analytics events on a migrated database whose reference data (categories, locations) is in place.

- Deterministic: every value comes from one `random.Random(random_seed)`; the only outside input is
  today's date (activity covers the last six months, businesses the last two years), so the same seed on
  the same day gives the same rows. Database ids come from the sequences: they are the same on a fresh
  database, not necessarily on one whose sequences were used before.
- Fast: rows are built as tuples by generators and streamed to `copy_records_to_table` (binary COPY), so
  PostgreSQL works on one batch while Python builds the next; one connection, one transaction with
  `synchronous_commit = off`.
- Consistent: reviews are unique per (business, customer); reviews are generated in memory before the
  businesses are copied, so each business is written once with its final `average_rating` /
  `review_count` (the aggregate of its approved reviews, rounded exactly as PostgreSQL's
  `round(avg(rating), 2)`): no UPDATE afterwards, hence no dead tuples in `businesses` or in
  `business_search` (kept in sync by a trigger on businesses). Inquiries, reviews and events only go to
  approved businesses and never predate the business (or the reviewing customer).
"""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate

import asyncpg

from servicerw.seed import words as W

__all__ = ["seed"]

KIGALI_TZ = timezone(timedelta(hours=2), "CAT")
DAY = 86400
HISTORY_DAYS = 730  # businesses and users were created over the last two years
ACTIVITY_DAYS = 182  # inquiries and analytics events cover the last six months
CHUNK = 100_000  # rows drawn at once for the big tables (weighted picks are made per chunk)
FALLBACK_CENTRE = (-1.9441, 30.0619)  # Kigali, for a district without coordinates

LANGUAGES = ("rw", "en", "fr")
LANGUAGE_CUM = (55.0, 85.0, 100.0)  # rw 55 %, en 30 %, fr 15 %
PHONE_PREFIXES = ("8", "8", "8", "8", "8", "8", "9", "2", "2", "3")  # MTN 78/79, Airtel 72/73
KEEP_CASE = {"English", "French", "Kinyarwanda", "Swahili", "Irembo", "Windows", "Ikinyarwanda", "Tilapia"}
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

BUSINESS_COLUMNS = (
    "id", "business_name", "slug", "description_en", "description_rw", "description_fr", "category_id",
    "location_id", "status", "is_active", "is_featured", "is_verified", "phone", "whatsapp_number", "email",
    "website", "address", "latitude", "longitude", "opening_hours", "services", "momo_pay_code", "owner_id",
    "created_at", "updated_at", "average_rating", "review_count",
)  # fmt: skip
USER_COLUMNS = (
    "id", "email", "phone", "full_name", "password_hash", "role", "preferred_language", "is_active",
    "email_verified_at", "created_at", "updated_at",
)  # fmt: skip
REVIEW_COLUMNS = (
    "business_id", "user_id", "rating", "body", "language", "status", "owner_reply", "owner_replied_at",
    "created_at", "updated_at",
)  # fmt: skip
INQUIRY_COLUMNS = (
    "business_id", "customer_name", "customer_phone", "customer_email", "message", "preferred_contact",
    "language", "status", "created_at", "updated_at", "replied_at",
)  # fmt: skip
EVENT_COLUMNS = ("business_id", "date", "event_type", "source", "metadata", "created_at")
SEARCH_COLUMNS = ("created_at", "query", "corrected_query", "filters", "result_count", "latency_ms", "zero_results",
                  "language", "page", "source")  # fmt: skip

CENT = Decimal("0.01")
NO_RATING = Decimal("0.00")


async def seed(
    dsn: str,
    *,
    businesses: int = 20000,
    inquiries: int | None = None,
    reviews: int | None = None,
    events: int | None = None,
    customers: int | None = None,
    searches: int | None = None,
    random_seed: int = 42,
    progress: Callable[[str], None] = print,
) -> dict[str, int]:
    """Load synthetic data; returns the exact number of rows written per table.

    Defaults scale with `businesses`: 25 inquiries, 5 reviews, 50 analytics events, 10 logged searches
    (`search_queries`) and one customer per business; owners come on top (about one per business, some
    own two or three). Refuses with a RuntimeError when `businesses` already has rows.
    """
    inquiries = 25 * businesses if inquiries is None else inquiries
    reviews = 5 * businesses if reviews is None else reviews
    events = 50 * businesses if events is None else events
    customers = businesses if customers is None else customers
    searches = 10 * businesses if searches is None else searches
    for name, value in (
        ("businesses", businesses),
        ("inquiries", inquiries),
        ("reviews", reviews),
        ("events", events),
        ("customers", customers),
        ("searches", searches),
    ):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if reviews and not customers:
        raise ValueError("reviews need customers to write them (customers=0)")

    rng = random.Random(random_seed)
    today = date.today()
    base = datetime.combine(today, dt_time.min, KIGALI_TZ)  # "now" for the data: today 00:00 in Kigali
    started = time.perf_counter()
    counts: dict[str, int] = {}

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            # Two seeders at once would race on the emptiness check: the second waits here, then refuses.
            await conn.execute("LOCK TABLE businesses IN SHARE ROW EXCLUSIVE MODE")
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM businesses)"):
                raise RuntimeError(
                    "The businesses table already has rows: seed only loads into an empty database "
                    "(truncate businesses, users, reviews, customer_inquiries and business_analytics first)."
                )
            reference = await _Reference.load(conn)
            t0 = time.perf_counter()
            plan = _Plan.build(rng, reference, businesses, customers, base)
            progress(
                f"generated {len(plan.user_rows):,} users and {businesses:,} businesses "
                f"in {time.perf_counter() - t0:.1f}s"
            )
            if (inquiries or events or reviews) and not plan.approved:
                raise ValueError("inquiries, reviews and events need approved businesses (businesses=0)")
            if reviews > len(plan.approved) * customers:
                raise ValueError(
                    f"{reviews} reviews cannot be unique per (business, customer) with "
                    f"{len(plan.approved)} approved businesses and {customers} customers"
                )
            user_ids = await _reserve_ids(conn, "users", len(plan.user_rows))
            business_ids = await _reserve_ids(conn, "businesses", businesses)
            plan.assign_ids(user_ids, business_ids)

            async def copy(table: str, columns: Sequence[str], rows: Iterator[tuple] | list[tuple]) -> int:
                t0 = time.perf_counter()
                status = await conn.copy_records_to_table(table, records=rows, columns=list(columns))
                n = int(status.split()[-1])
                counts[table] = n
                progress(f"{table}: {n:,} rows in {time.perf_counter() - t0:.1f}s")
                return n

            # Reviews are drawn before the businesses are written (same rng order as the streams below),
            # so each business is copied once with its final rating: no UPDATE, no dead tuples.
            t0 = time.perf_counter()
            review_rows = list(_review_rows(rng, plan, reviews, base))
            ratings = _ratings(review_rows)
            progress(
                f"generated {len(review_rows):,} reviews ({len(ratings):,} rated businesses) "
                f"in {time.perf_counter() - t0:.1f}s"
            )
            await copy("users", USER_COLUMNS, plan.user_rows)
            await copy("businesses", BUSINESS_COLUMNS, _rated_business_rows(plan.business_rows, ratings))
            await copy("reviews", REVIEW_COLUMNS, review_rows)
            del review_rows
            await copy("customer_inquiries", INQUIRY_COLUMNS, _inquiry_rows(rng, plan, inquiries, base))
            await _ensure_partitions(conn)
            await copy("business_analytics", EVENT_COLUMNS, _event_rows(rng, plan, events, today, base))
            if searches:
                # Their own random stream: the rows above stay what they were before searches were seeded.
                search_rng = random.Random(random_seed + 7919)
                await copy("search_queries", SEARCH_COLUMNS, await _search_rows(conn, search_rng, searches, base))
            t0 = time.perf_counter()
            await conn.execute(
                "ANALYZE users, businesses, reviews, customer_inquiries, business_analytics, search_queries"
            )
            progress(f"analyze: {time.perf_counter() - t0:.1f}s")
    finally:
        await conn.close()
    progress(f"seed done: {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f}s")
    return counts


async def _reserve_ids(conn: asyncpg.Connection, table: str, n: int) -> list[int]:
    """Take n ids from the table's sequence, so rows can reference each other before they are copied."""
    if not n:
        return []
    rows = await conn.fetch(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)", table, n
    )
    return sorted(r["id"] for r in rows)


async def _ensure_partitions(conn: asyncpg.Connection) -> None:
    """Monthly analytics partitions for the whole activity window (a no-op on a freshly migrated DB)."""
    exists = await conn.fetchval(
        "SELECT to_regprocedure('servicerw_ensure_analytics_partitions(integer, integer)') IS NOT NULL"
    )
    if exists:
        await conn.execute("SELECT servicerw_ensure_analytics_partitions(7, 1)")


# --- Reference data -------------------------------------------------------------------------------------


class _Sector:
    __slots__ = ("id", "name", "district", "centre", "cells", "street_prefix")

    def __init__(self, id_: int, name: str, district: str, centre: tuple[float, float], cells: list[int]):
        self.id = id_
        self.name = name
        self.district = district
        self.centre = centre
        self.cells = cells
        self.street_prefix = W.STREET_PREFIX.get(district)


class _Reference:
    """Sub-categories and sectors (with their cells and district centres) read from the database."""

    def __init__(self, categories: list[asyncpg.Record], sectors: list[_Sector], weights: list[float]):
        self.categories = categories
        self.sectors = sectors
        self.sector_cum = list(accumulate(weights))
        self.category_cum = list(accumulate(W.CATEGORY_VOCAB.get(c["slug"], {}).get("w", 1.0) for c in categories))

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> _Reference:
        categories = await conn.fetch(
            "SELECT id, slug, name_en, name_rw, name_fr FROM categories WHERE parent_id IS NOT NULL ORDER BY id"
        )
        districts = await conn.fetch(
            "SELECT id, name, latitude, longitude FROM locations WHERE level = 'district' ORDER BY id"
        )
        sector_rows = await conn.fetch("SELECT id, name, district_id FROM locations WHERE level = 'sector' ORDER BY id")
        cell_rows = await conn.fetch("SELECT id, sector_id FROM locations WHERE level = 'cell' ORDER BY id")
        if not categories or not sector_rows:
            raise RuntimeError("No sub-categories or sectors: run the migrations (`servicerw migrate`) first.")

        by_district = {d["id"]: d for d in districts}
        cells: dict[int, list[int]] = {}
        for c in cell_rows:
            cells.setdefault(c["sector_id"], []).append(c["id"])

        kigali = [d["name"] for d in districts if d["name"] in W.KIGALI_DISTRICTS]

        def district_weight(name: str) -> float:
            return W.DISTRICT_WEIGHTS.get(name, W.OTHER_DISTRICT_WEIGHT)

        kigali_total = sum(district_weight(n) for n in kigali)
        other_total = sum(district_weight(d["name"]) for d in districts if d["name"] not in kigali)

        def district_share(name: str) -> float:
            if not kigali or not other_total:  # unknown geography: plain weights
                return district_weight(name)
            if name in kigali:
                return W.KIGALI_SHARE * district_weight(name) / kigali_total
            return (1 - W.KIGALI_SHARE) * district_weight(name) / other_total

        boost_total: dict[int, float] = {}
        for s in sector_rows:
            boost_total[s["district_id"]] = boost_total.get(s["district_id"], 0.0) + W.BUSY_SECTORS.get(s["name"], 1)
        sectors, weights = [], []
        for s in sector_rows:
            district = by_district.get(s["district_id"])
            name = district["name"] if district else ""
            centre = (
                (district["latitude"], district["longitude"])
                if district and district["latitude"] is not None and district["longitude"] is not None
                else FALLBACK_CENTRE
            )
            sectors.append(_Sector(s["id"], s["name"], name, centre, cells.get(s["id"], [])))
            weights.append(district_share(name) * W.BUSY_SECTORS.get(s["name"], 1) / boost_total[s["district_id"]])
        return cls(list(categories), sectors, weights)


# --- Text helpers ---------------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-") or "business"


def _lc(text: str) -> str:
    """Lower-case the first letter for use inside a sentence, keeping acronyms and proper names."""
    first = text.split(" ", 1)[0]
    if first in KEEP_CASE or (len(first) > 1 and first[1].isupper()):
        return text
    return text[:1].lower() + text[1:]


def _join_en(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _join_fr(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _join_rw(items: Sequence[str]) -> str:
    """Kinyarwanda "and": `no` before a verb (infinitive), `n'` before a vowel, `na` otherwise."""
    if len(items) == 1:
        return items[0]
    last = items[-1]
    if last[:2] in ("gu", "ku", "kw", "gw", "ko"):
        conj = " no " + last
    elif last[:1] in "aeiou":
        conj = " n'" + last
    else:
        conj = " na " + last
    return ", ".join(items[:-1]) + conj


def _phone(rng: random.Random) -> str:
    return f"+2507{rng.choice(PHONE_PREFIXES)}{rng.randrange(10_000_000):07d}"


def _language(rnd: Callable[[], float]) -> str:
    r = rnd() * 100
    return "rw" if r < LANGUAGE_CUM[0] else "en" if r < LANGUAGE_CUM[1] else "fr"


# --- Businesses and users ------------------------------------------------------------------------------


def _opening_hours(rng: random.Random, h24: float) -> str:
    rnd = rng.random
    if rnd() < h24:
        return json.dumps({k: [["00:00", "24:00"]] for k in DAY_KEYS})
    opens = rng.choice(("07:00", "07:30", "08:00", "08:00", "08:30"))
    closes = rng.choice(("17:00", "18:00", "18:00", "18:30", "19:00", "20:00"))
    day = [[opens, closes]]
    r = rnd()
    if r < 0.35:
        week, sat, sun = day, [[opens, rng.choice(("13:00", "14:00", "16:00"))]], []
    elif r < 0.50:
        week, sat, sun = [[opens, "12:00"], ["14:00", closes]], [[opens, "12:00"]], []
    elif r < 0.65:
        every = [[rng.choice(("06:30", "07:00")), rng.choice(("21:00", "22:00"))]]
        week, sat, sun = every, every, every
    elif r < 0.80:
        week, sat, sun = day, day, [["10:00", "16:00"]]
    elif r < 0.95:
        week, sat, sun = day, day, []
    else:
        week, sat, sun = day, [], []
    hours = {k: week for k in DAY_KEYS[:5]}
    hours["sat"] = sat
    hours["sun"] = sun
    return json.dumps(hours)


def _business_name(
    rng: random.Random, vocab: dict, cat: asyncpg.Record, first: str, surname: str, sector: _Sector
) -> str:
    rnd = rng.random
    en_nouns = vocab.get("en") or (cat["name_en"],)
    fr_nouns = vocab.get("fr") or ()
    noun = rng.choice(en_nouns)
    word = rng.choice(W.KINYARWANDA_WORDS)
    r = rnd()
    if r < 0.30:
        return f"{word} {noun}"
    if r < 0.42 and fr_nouns:
        return f"{rng.choice(fr_nouns)} {word}"
    if r < 0.50:
        return f"{first} {noun}"
    if r < 0.58:
        return f"{surname} {noun}"
    if r < 0.63 and vocab.get("chez"):
        return f"Chez {first}"
    if r < 0.73:
        return f"{sector.name} {noun}"
    if r < 0.85:
        return f"{word} {noun} {rng.choice(W.NAME_SUFFIXES)}"
    if r < 0.90:
        return f"Ets {surname}" + (" & Frères" if rnd() < 0.3 else "")
    if r < 0.95 and " " not in noun:
        return f"{noun} {word}"
    return f"{word} {noun} {sector.district or sector.name}"


def _address(rng: random.Random, sector: _Sector) -> str:
    if sector.street_prefix and rng.random() < 0.8:
        kind = rng.choice(W.STREET_KINDS)
        return f"{sector.street_prefix} {rng.randint(1, 700)} {kind}, {sector.name}"
    return rng.choice(W.LANDMARK_ADDRESSES).format(sector=sector.name, district=sector.district)


def _descriptions(
    rng: random.Random, name: str, vocab: dict, cat: asyncpg.Record, services: list, sector: _Sector, year: int
) -> tuple[str, str, str]:
    what = vocab.get("what") or (
        _lc(cat["name_en"]) + " services",
        "serivisi za " + _lc(cat["name_rw"]),
        "des services de " + _lc(cat["name_fr"]),
    )
    picked = services[:3]
    fields = {"name": name, "sector": sector.name, "district": sector.district or sector.name, "year": year}
    texts = []
    for i, (intro, listing, closing, join, key) in enumerate(
        (
            (W.DESC_EN_INTRO, W.DESC_EN_SERVICES, W.DESC_EN_CLOSING, _join_en, "name_en"),
            (W.DESC_RW_INTRO, W.DESC_RW_SERVICES, W.DESC_RW_CLOSING, _join_rw, "name_rw"),
            (W.DESC_FR_INTRO, W.DESC_FR_SERVICES, W.DESC_FR_CLOSING, _join_fr, "name_fr"),
        )
    ):
        sentences = [
            rng.choice(intro).format(what=what[i], **fields),
            rng.choice(listing).format(services=join([_lc(s[key]) for s in picked])),
        ]
        if rng.random() < 0.7:
            sentences.append(rng.choice(closing).format(**fields))
        texts.append(" ".join(sentences))
    return texts[0], texts[1], texts[2]


class _Plan:
    """Users and businesses (as COPY tuples) plus what the later tables need to know per business."""

    def __init__(self) -> None:
        self.user_rows: list[tuple] = []
        self.business_rows: list[tuple] = []
        self.n_customers = 0
        self.customer_age: list[float] = []  # seconds before `base`
        self.customer_language: list[str] = []
        # Per business (by index)
        self.age: list[float] = []
        self.sector_name: list[str] = []
        self.services: list[tuple[tuple[str, str, str], ...]] = []  # lower-cased (en, rw, fr) names
        self.has_website: list[bool] = []
        self.has_email: list[bool] = []
        self.bias: list[float] = []  # quality: shifts this business's ratings
        # Approved businesses: indexes into the lists above, with cumulative popularity weights.
        self.approved: list[int] = []
        self.approved_cum: list[float] = []
        self.business_ids: list[int] = []
        self.customer_ids: list[int] = []

    @classmethod
    def build(cls, rng: random.Random, ref: _Reference, n_businesses: int, n_customers: int, base: datetime) -> _Plan:
        plan = cls()
        rnd = rng.random
        names = [(rng.choice(W.FIRST_NAMES), rng.choice(W.SURNAMES)) for _ in range(n_customers)]

        # Owners: most own one business, some two or three.
        owner_of: list[int] = []
        n_owners = 0
        while len(owner_of) < n_businesses:
            r = rnd()
            owner_of.extend([n_owners] * (1 if r < 0.85 else 2 if r < 0.95 else 3))
            n_owners += 1
        owner_of = owner_of[:n_businesses]
        rng.shuffle(owner_of)
        owner_names = [(rng.choice(W.FIRST_NAMES), rng.choice(W.SURNAMES)) for _ in range(n_owners)]
        owner_age = [0.0] * n_owners

        categories, sectors = ref.categories, ref.sectors
        cat_indexes = rng.choices(range(len(categories)), cum_weights=ref.category_cum, k=n_businesses)
        sector_indexes = rng.choices(range(len(sectors)), cum_weights=ref.sector_cum, k=n_businesses)
        used_slugs: set[str] = set()
        slug_counter: dict[str, int] = {}
        popularity: list[float] = []
        # Business rows get their id (and owner id) once ids are reserved: keep them as lists for now.
        pending_rows: list[list] = []

        for i in range(n_businesses):
            cat = categories[cat_indexes[i]]
            vocab = W.CATEGORY_VOCAB.get(cat["slug"], {})
            sector = sectors[sector_indexes[i]]
            owner = owner_of[i]
            first, surname = owner_names[owner]

            r = rnd()
            status = "approved" if r < 0.90 else "pending" if r < 0.96 else "rejected" if r < 0.98 else "suspended"
            if status == "approved":
                age = rng.uniform(7 * DAY, HISTORY_DAYS * DAY)
            elif status == "pending":
                age = rng.uniform(0.1 * DAY, 30 * DAY)
            elif status == "rejected":
                age = rng.uniform(1 * DAY, 180 * DAY)
            else:
                age = rng.uniform(30 * DAY, HISTORY_DAYS * DAY)
            age = float(int(age))
            is_active = rnd() < 0.97
            is_featured = status == "approved" and rnd() < 0.03
            is_verified = rnd() < (0.37 if status == "approved" else 0.15)
            owner_age[owner] = max(owner_age[owner], age)

            name = _business_name(rng, vocab, cat, first, surname, sector)
            base_slug = _slugify(name)
            n = slug_counter.get(base_slug, 0)
            slug = base_slug
            while slug in used_slugs:
                n += 1
                slug = f"{base_slug}-{n + 1}" if n else base_slug
            slug_counter[base_slug] = n
            used_slugs.add(slug)

            catalogue = vocab.get("services") or W.GENERIC_SERVICES
            chosen = rng.sample(catalogue, rng.randint(2, min(6, len(catalogue))))
            services = []
            for en, rw, fr, low, high in chosen:
                price = max(low, int(round(rng.uniform(low, high) / 500)) * 500)
                services.append({"name_en": en, "name_rw": rw, "name_fr": fr, "price_rwf": price})

            created = base - timedelta(seconds=age)
            year = created.year - rng.randint(0, 8)
            desc_en, desc_rw, desc_fr = _descriptions(rng, name, vocab, cat, services, sector, year)

            location_id = rng.choice(sector.cells) if sector.cells and rnd() < 0.2 else sector.id
            lat = round(sector.centre[0] + rng.uniform(-0.05, 0.05), 6)
            lon = round(sector.centre[1] + rng.uniform(-0.05, 0.05), 6)
            phone = _phone(rng)
            r = rnd()
            whatsapp = phone if r < 0.65 else _phone(rng) if r < 0.9 else ""
            compact = re.sub(r"[^a-z0-9]", "", base_slug)[:30] or "business"
            email = f"{compact}@example.com" if rnd() < 0.4 else ""
            website = f"https://{compact}.example.com" if rnd() < (0.15 if status == "approved" else 0.05) else ""
            momo = str(rng.randint(10000, 999999)) if rnd() < 0.6 else ""
            updated = base - timedelta(seconds=int(age * rnd()))

            pending_rows.append(
                [
                    None,  # id
                    name,
                    slug,
                    desc_en,
                    desc_rw,
                    desc_fr,
                    cat["id"],
                    location_id,
                    status,
                    is_active,
                    is_featured,
                    is_verified,
                    phone,
                    whatsapp,
                    email,
                    website,
                    _address(rng, sector),
                    lat,
                    lon,
                    _opening_hours(rng, vocab.get("h24", 0.02)),
                    json.dumps(services, ensure_ascii=False),
                    momo,
                    owner,  # owner index, becomes the owner's user id
                    created,
                    updated,
                ]
            )
            plan.age.append(age)
            plan.sector_name.append(sector.name)
            plan.services.append(tuple((_lc(s["name_en"]), _lc(s["name_rw"]), _lc(s["name_fr"])) for s in services))
            plan.has_website.append(bool(website))
            plan.has_email.append(bool(email))
            plan.bias.append(rng.gauss(0.0, 0.45))
            if status == "approved":
                plan.approved.append(i)
                weight = rng.lognormvariate(0.0, 1.0) * (3.0 if is_featured else 1.0) * (1.0 if is_active else 0.3)
                popularity.append(weight)

        plan.approved_cum = list(accumulate(popularity))
        plan._pending_business_rows = pending_rows

        # Users: customers first, then owners (created before their first business).
        users = plan.user_rows
        for i, (first, surname) in enumerate(names):
            age = float(rng.randint(DAY, HISTORY_DAYS * DAY))
            created = base - timedelta(seconds=age)
            language = _language(rnd)
            email = f"{_slugify(first).replace('-', '.')}.{surname.lower()}{i + 1}@example.org"
            verified = created + timedelta(minutes=rng.randint(1, 120)) if rnd() < 0.7 else None
            users.append(
                [None, email, _phone(rng) if rnd() < 0.85 else None, f"{first} {surname}", "", "customer",
                 language, rnd() < 0.99, verified, created, created]
            )  # fmt: skip
            plan.customer_age.append(age)
            plan.customer_language.append(language)
        plan.n_customers = n_customers
        for i, (first, surname) in enumerate(owner_names):
            age = owner_age[i] + rng.randint(3600, 30 * DAY)
            created = base - timedelta(seconds=age)
            email = f"{_slugify(first).replace('-', '.')}.{surname.lower()}{i + 1}@example.com"
            verified = created + timedelta(minutes=rng.randint(1, 60)) if rnd() < 0.9 else None
            users.append(
                [None, email, _phone(rng), f"{first} {surname}", "", "owner", _language(rnd), True, verified,
                 created, created]
            )  # fmt: skip
        return plan

    def assign_ids(self, user_ids: list[int], business_ids: list[int]) -> None:
        for row, id_ in zip(self.user_rows, user_ids, strict=True):
            row[0] = id_
        self.customer_ids = user_ids[: self.n_customers]
        owner_ids = user_ids[self.n_customers :]
        rows = []
        for row, id_ in zip(self._pending_business_rows, business_ids, strict=True):
            row[0] = id_
            row[22] = owner_ids[row[22]]
            rows.append(tuple(row))
        self.business_rows = rows
        self.user_rows = [tuple(r) for r in self.user_rows]
        self.business_ids = business_ids
        del self._pending_business_rows


# --- Reviews, inquiries, events -------------------------------------------------------------------------


def _ratings(review_rows: Iterable[tuple]) -> dict[int, tuple[Decimal, int]]:
    """business id -> (average_rating, review_count) over its approved reviews.

    The average is `round(avg(rating), 2)` as PostgreSQL computes it on numeric: the exact quotient
    rounded half away from zero (ratings are positive, so ROUND_HALF_UP), never a binary float.
    """
    sums: dict[int, list[int]] = {}
    for row in review_rows:
        if row[5] == "approved":
            acc = sums.get(row[0])
            if acc is None:
                sums[row[0]] = [row[2], 1]
            else:
                acc[0] += row[2]
                acc[1] += 1
    return {
        business_id: ((Decimal(total) / Decimal(n)).quantize(CENT, rounding=ROUND_HALF_UP), n)
        for business_id, (total, n) in sums.items()
    }


def _rated_business_rows(rows: list[tuple], ratings: dict[int, tuple[Decimal, int]]) -> Iterator[tuple]:
    """Business rows with `average_rating`, `review_count` appended (0 / 0 without approved reviews)."""
    unrated = (NO_RATING, 0)
    for row in rows:
        yield row + ratings.get(row[0], unrated)


def _review_rows(rng: random.Random, plan: _Plan, n: int, base: datetime) -> Iterator[tuple]:
    """n reviews over approved businesses (popular ones get more), each by a distinct customer."""
    if not n:
        return
    rnd, choice, gauss = rng.random, rng.choice, rng.gauss
    approved = plan.approved
    n_customers = plan.n_customers
    counts = [0] * len(approved)
    for a in rng.choices(range(len(approved)), cum_weights=plan.approved_cum, k=n):
        counts[a] += 1
    # A business cannot have more reviews than there are customers: move the excess, in order.
    excess = sum(max(0, c - n_customers) for c in counts)
    if excess:
        for a, c in enumerate(counts):
            if c > n_customers:
                counts[a] = n_customers
        for a, c in enumerate(counts):
            if not excess:
                break
            room = min(n_customers - c, excess)
            counts[a] += room
            excess -= room

    customer_ids, customer_age, customer_language = plan.customer_ids, plan.customer_age, plan.customer_language
    business_ids = plan.business_ids
    for a, k in enumerate(counts):
        if not k:
            continue
        b = approved[a]
        business_id = business_ids[b]
        mean = 4.15 + plan.bias[b]
        business_age = plan.age[b]
        for u in rng.sample(range(n_customers), k):
            rating = int(round(gauss(mean, 1.0)))
            rating = 1 if rating < 1 else 5 if rating > 5 else rating
            sentiment = 0 if rating >= 4 else 1 if rating == 3 else 2
            r = rnd()
            status = "approved" if r < 0.85 else "pending" if r < 0.95 else "rejected"
            language = customer_language[u] if rnd() < 0.8 else choice(LANGUAGES)
            if rnd() < 0.08:
                body = ""
            else:
                texts = W.REVIEW_TEXT[language][sentiment]
                body = choice(texts)
                if rnd() < 0.4:
                    second = choice(texts)
                    if second != body:
                        body = f"{body} {second}"
            newest = min(business_age, customer_age[u])  # the review comes after both were created
            ago = int(60 + rnd() * (newest - 3600))
            created = base - timedelta(seconds=ago)
            reply, replied_at, updated = "", None, created
            if status == "approved" and rnd() < (0.45 if sentiment == 2 else 0.25):
                delay = rng.randint(1800, 5 * DAY)
                if delay < ago - 60:
                    reply = choice(W.OWNER_REPLY[language][0 if sentiment == 0 else 1])
                    replied_at = updated = created + timedelta(seconds=delay)
            yield (
                business_id,
                customer_ids[u],
                rating,
                body,
                language,
                status,
                reply,
                replied_at,
                created,
                updated,
            )


def _inquiry_rows(rng: random.Random, plan: _Plan, n: int, base: datetime) -> Iterator[tuple]:
    rnd, choice = rng.random, rng.choice
    approved, cum = plan.approved, plan.approved_cum
    business_ids, ages, sectors, services = plan.business_ids, plan.age, plan.sector_name, plan.services
    templates = {"en": W.INQUIRY_EN, "rw": W.INQUIRY_RW, "fr": W.INQUIRY_FR}
    day_words = {"en": W.DAYS_EN, "rw": W.DAYS_RW, "fr": W.DAYS_FR}
    lang_index = {"en": 0, "rw": 1, "fr": 2}
    firsts, surnames = W.FIRST_NAMES, W.SURNAMES
    first_ascii = {f: _slugify(f).replace("-", ".") for f in firsts}
    window_cap = ACTIVITY_DAYS * DAY
    td = timedelta
    remaining = n
    while remaining:
        k = min(CHUNK, remaining)
        remaining -= k
        for b in rng.choices(approved, cum_weights=cum, k=k):
            window = min(ages[b], window_cap)
            ago = int(60 + rnd() * (window - 120))
            created = base - td(seconds=ago)
            first, surname = choice(firsts), choice(surnames)
            customer = f"{first} {surname}" if rnd() < 0.7 else f"{surname} {first}"
            email = f"{first_ascii[first]}.{surname.lower()}{int(rnd() * 100)}@example.net" if rnd() < 0.4 else ""
            r = rnd()
            if email and r < 0.15:
                contact = "email"
            elif r < 0.5:
                contact = "whatsapp"
            else:
                contact = "phone"
            language = _language(rnd)
            service = choice(services[b])[lang_index[language]]
            message = choice(templates[language]).format(
                service=service, sector=sectors[b], day=choice(day_words[language])
            )
            days = ago / DAY
            r = rnd()
            if days < 3:
                status = "new" if r < 0.6 else "read" if r < 0.85 else "replied"
            elif days < 14:
                status = "new" if r < 0.2 else "read" if r < 0.45 else "replied" if r < 0.85 else "closed"
            else:
                status = "new" if r < 0.05 else "read" if r < 0.2 else "replied" if r < 0.6 else "closed"
            replied_at = None
            updated = created
            if status == "replied" or (status == "closed" and rnd() < 0.8):
                delay = 300 + int(rnd() * 2 * DAY)
                if delay >= ago:
                    delay = ago // 2
                replied_at = updated = created + td(seconds=delay)
            elif status != "new":
                updated = created + td(seconds=int(rnd() * min(ago, DAY)))
            yield (
                business_ids[b],
                customer,
                f"+2507{choice(PHONE_PREFIXES)}{int(rnd() * 10_000_000):07d}",
                email,
                message,
                contact,
                language,
                status,
                created,
                updated,
                replied_at,
            )


def _event_rows(rng: random.Random, plan: _Plan, n: int, today: date, base: datetime) -> Iterator[tuple]:
    """Analytics events over the last six months (yesterday at the latest), popular businesses first."""
    rnd = rng.random
    approved, cum = plan.approved, plan.approved_cum
    business_ids, has_website, has_email = plan.business_ids, plan.has_website, plan.has_email
    windows = [max(1, min(ACTIVITY_DAYS, int(a // DAY))) for a in plan.age]
    dates = [today - timedelta(days=d) for d in range(ACTIVITY_DAYS + 1)]
    day_starts = [base - timedelta(days=d) for d in range(ACTIVITY_DAYS + 1)]
    types = [t for t, _w in W.EVENT_MIX]
    type_cum = list(accumulate(w for _t, w in W.EVENT_MIX))
    call, whatsapp, website, email_click = (
        types.index(t) for t in ("call_click", "whatsapp_click", "website_click", "email_click")
    )
    impression = types.index("search_impression")
    impression_sources = [s for s, w in W.IMPRESSION_SOURCES for _ in range(int(w))]
    view_sources = [s for s, w in W.VIEW_SOURCES for _ in range(int(w))]
    n_imp, n_view = len(impression_sources), len(view_sources)
    positions = [json.dumps({"position": p}) for p in range(1, 21)]
    contexts = [
        json.dumps({"lang": lang, "device": device})
        for lang in ("rw", "rw", "rw", "en", "en", "fr")
        for device in ("mobile", "mobile", "mobile", "desktop")
    ]
    n_ctx = len(contexts)
    td = timedelta
    remaining = n
    while remaining:
        k = min(CHUNK, remaining)
        remaining -= k
        picks = rng.choices(approved, cum_weights=cum, k=k)
        kinds = rng.choices(range(len(types)), cum_weights=type_cum, k=k)
        for b, t in zip(picks, kinds, strict=True):
            if t == website and not has_website[b]:
                t = call
            elif t == email_click and not has_email[b]:
                t = whatsapp
            d = 1 + int(rnd() * windows[b])
            if t == impression:
                source = impression_sources[int(rnd() * n_imp)]
                metadata = positions[int(rnd() * rnd() * 20)]
            else:
                source = view_sources[int(rnd() * n_view)]
                metadata = contexts[int(rnd() * n_ctx)]
            yield (
                business_ids[b],
                dates[d],
                types[t],
                source,
                metadata,
                day_starts[d] + td(seconds=int(rnd() * DAY)),
            )


# --- The search log -------------------------------------------------------------------------------------

TYPOS = ("plmber", "elecrician", "mecanic", "salonn", "restorant", "qwzx", "hotell", "farmacy", "gaarage", "tailr")


async def _search_rows(conn: asyncpg.Connection, rng: random.Random, n: int, base: datetime) -> list[tuple]:
    """Searches over the last six months: category names and their words in three languages, often with a
    district name, sometimes filtered by district and/or category; about 7 % find nothing (typos)."""
    categories = await conn.fetch("SELECT slug, name_en, name_rw, name_fr FROM categories ORDER BY id")
    districts = await conn.fetch("SELECT slug, name FROM locations WHERE level = 'district' ORDER BY id")
    if not categories or not districts:
        raise RuntimeError("No categories or districts: run the migrations (`servicerw migrate`) first.")
    rnd = rng.random
    # Popular categories are searched far more often (Zipf-like weights over a shuffled order).
    order = list(range(len(categories)))
    rng.shuffle(order)
    cum = list(accumulate(1.0 / (rank + 1) for rank in range(len(order))))
    rows = []
    for _ in range(n):
        category = categories[order[rng.choices(range(len(order)), cum_weights=cum)[0]]]
        language = _language(rnd)
        name = category[f"name_{language}"] if rnd() < 0.8 else category["name_en"]
        district = districts[int(rnd() * rnd() * len(districts))]
        zero = rnd() < 0.07
        if zero:
            query = TYPOS[int(rnd() * len(TYPOS))] + ("" if rnd() < 0.5 else f" {district['name'].lower()}")
        else:
            query = name.lower() if rnd() < 0.7 else f"{name.lower()} {district['name'].lower()}"
        filters: dict[str, str] = {}
        if rnd() < 0.25:
            filters["district"] = district["slug"]
        if rnd() < 0.2:
            filters["category"] = category["slug"]
        count = 0 if zero else 1 + int(rnd() * rnd() * 400)
        created = base - timedelta(seconds=int(rnd() * ACTIVITY_DAYS * DAY))
        rows.append(
            (
                created,
                query[:200],
                "",
                json.dumps(filters),
                count,
                round(5 + rnd() * 40, 2),
                zero,
                language,
                1 if rnd() < 0.9 else 2,
                "page" if rnd() < 0.7 else "htmx",
            )
        )
    return rows


async def seed_searches(dsn: str, n: int, random_seed: int = 42) -> int:
    """Add `n` logged searches to an already seeded database (e.g. one seeded before searches were)."""
    base = datetime.combine(date.today(), dt_time.min, KIGALI_TZ)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await _search_rows(conn, random.Random(random_seed + 7919), n, base)
        await conn.copy_records_to_table("search_queries", records=rows, columns=list(SEARCH_COLUMNS))
        await conn.execute("ANALYZE search_queries")
    finally:
        await conn.close()
    return len(rows)
