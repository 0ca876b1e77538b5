"""The synthetic data generator: exact volumes, determinism, consistency and plausible content."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import pytest

from servicerw.seed.generator import _ratings, seed
from tests.helpers import wait_for

SMALL = {"businesses": 200, "inquiries": 3000, "reviews": 800, "events": 6000, "customers": 150, "searches": 900}
DATA_TABLES = "search_queries, business_analytics, customer_inquiries, reviews, business_images, businesses, users"


async def _truncate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {DATA_TABLES} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def seeded(clean_db: str):
    """The clean test database after a small seed; yields (connection, returned counts, progress messages)."""
    messages: list[str] = []
    counts = await seed(clean_db, **SMALL, progress=messages.append)
    conn = await asyncpg.connect(clean_db)
    try:
        yield conn, counts, messages
    finally:
        await conn.close()


async def _count(conn, sql: str) -> int:
    return await conn.fetchval(sql)


async def test_counts_are_exact_and_match_the_request(seeded):
    conn, counts, messages = seeded
    tables = ("users", "businesses", "reviews", "customer_inquiries", "business_analytics", "search_queries")
    in_db = {t: await _count(conn, f"SELECT count(*) FROM {t}") for t in tables}
    assert counts == in_db
    assert counts["businesses"] == SMALL["businesses"]
    assert counts["customer_inquiries"] == SMALL["inquiries"]
    assert counts["reviews"] == SMALL["reviews"]
    assert counts["business_analytics"] == SMALL["events"]
    assert counts["search_queries"] == SMALL["searches"]
    assert await _count(conn, "SELECT count(*) FROM users WHERE role = 'customer'") == SMALL["customers"]
    assert await _count(conn, "SELECT count(*) FROM business_images") == 0
    # Owners: about one per business, some own two or three; each owns at least one, all are owners.
    owners = await conn.fetch("SELECT owner_id, count(*) AS n FROM businesses GROUP BY owner_id")
    assert len(owners) == counts["users"] - SMALL["customers"]
    assert 0.6 * SMALL["businesses"] < len(owners) < SMALL["businesses"]
    assert max(r["n"] for r in owners) <= 3
    assert await _count(conn, "SELECT count(*) FROM businesses WHERE owner_id IS NULL") == 0
    roles = await conn.fetch("SELECT DISTINCT u.role FROM businesses b JOIN users u ON u.id = b.owner_id")
    assert [r["role"] for r in roles] == ["owner"]
    # Progress reports every table with its row count.
    for table in tables:
        assert any(m.startswith(f"{table}: {counts[table]:,} rows") for m in messages), messages


async def test_defaults_scale_with_businesses(clean_db):
    counts = await seed(clean_db, businesses=40, progress=lambda _m: None)
    assert counts["businesses"] == 40
    assert counts["customer_inquiries"] == 25 * 40
    assert counts["reviews"] == 5 * 40
    assert counts["business_analytics"] == 50 * 40
    conn = await asyncpg.connect(clean_db)
    try:
        assert await _count(conn, "SELECT count(*) FROM users WHERE role = 'customer'") == 40
    finally:
        await conn.close()


async def _snapshot(dsn: str) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            "businesses": [
                tuple(r)
                for r in await conn.fetch(
                    """SELECT business_name, slug, average_rating, review_count, status, description_rw,
                              services::text, opening_hours::text, phone, created_at
                       FROM businesses ORDER BY id"""
                )
            ],
            "reviews": [
                tuple(r)
                for r in await conn.fetch(
                    """SELECT b.slug, u.email, r.rating, r.body, r.status, r.created_at
                       FROM reviews r JOIN businesses b ON b.id = r.business_id JOIN users u ON u.id = r.user_id
                       ORDER BY r.id"""
                )
            ],
            "inquiries": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT business_id, customer_name, message, status, created_at FROM customer_inquiries ORDER BY id"
                )
            ],
            "events": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT business_id, date, event_type, source, metadata::text FROM business_analytics ORDER BY id"
                )
            ],
        }
    finally:
        await conn.close()


async def test_same_seed_gives_identical_data_and_another_seed_does_not(clean_db):
    quiet = {"progress": lambda _m: None}
    await seed(clean_db, **SMALL, random_seed=7, **quiet)
    first = await _snapshot(clean_db)
    await _truncate(clean_db)
    await seed(clean_db, **SMALL, random_seed=7, **quiet)
    second = await _snapshot(clean_db)
    assert first == second
    await _truncate(clean_db)
    await seed(clean_db, **SMALL, random_seed=8, **quiet)
    other = await _snapshot(clean_db)
    assert [b[1] for b in other["businesses"]] != [b[1] for b in first["businesses"]]


async def test_ratings_equal_the_aggregate_of_approved_reviews(seeded):
    conn, _counts, _messages = seeded
    mismatches = await conn.fetch(
        """SELECT b.id, b.average_rating, b.review_count, a.avg, a.n
           FROM businesses b
           LEFT JOIN (SELECT business_id, round(avg(rating), 2) AS avg, count(*) AS n
                        FROM reviews WHERE status = 'approved' GROUP BY business_id) a ON a.business_id = b.id
           WHERE b.average_rating <> coalesce(a.avg, 0) OR b.review_count <> coalesce(a.n, 0)"""
    )
    assert mismatches == []
    assert await _count(conn, "SELECT count(*) FROM businesses WHERE review_count > 0") > 50
    # Ratings lean positive, around 4 on average, with every star used.
    mean = await conn.fetchval("SELECT avg(rating)::float FROM reviews")
    assert 3.6 < mean < 4.4
    assert await _count(conn, "SELECT count(DISTINCT rating) FROM reviews") == 5


def test_ratings_round_like_postgres_numeric_and_count_only_approved_reviews():
    def review(business_id: int, rating: int, status: str = "approved") -> tuple:
        return (business_id, 1, rating, "", "en", status, "", None, None, None)

    rows = [
        *(review(1, r) for r in (4, 4, 4, 5, 4, 4, 4, 4)),  # 4.125 -> 4.13 (half-up; float round gives 4.12)
        *(review(2, r) for r in (1, 2, 2)),  # 1.666... -> 1.67
        *(review(3, r) for r in (5, 4, 4, 4, 4, 4, 4, 4)),  # 4.125 again, other order
        review(4, 5, "pending"),
        review(4, 1, "rejected"),  # no approved review: absent (stored as 0 / 0)
        review(5, 3),
        review(5, 5, "pending"),
        *(review(6, r) for r in (1, 1, 1, 1, 1, 1, 1, 2)),  # 1.125 -> 1.13
    ]
    assert _ratings(rows) == {
        1: (Decimal("4.13"), 8),
        2: (Decimal("1.67"), 3),
        3: (Decimal("4.13"), 8),
        5: (Decimal("3.00"), 1),
        6: (Decimal("1.13"), 8),
    }
    assert str(_ratings(rows)[5][0]) == "3.00"


async def _update_stats(conn) -> dict[str, tuple[int, int]]:
    rows = await conn.fetch(
        """SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables
           WHERE relname IN ('businesses', 'business_search')"""
    )
    return {r["relname"]: (r["n_tup_ins"], r["n_tup_upd"]) for r in rows}


async def test_businesses_are_written_once_without_updates(clean_db):
    """Ratings go in with the COPY: no UPDATE leaves dead tuples in businesses or business_search."""
    conn = await asyncpg.connect(clean_db)
    try:
        before = await _update_stats(conn)
        counts = await seed(clean_db, businesses=60, progress=lambda _m: None)
        n = counts["businesses"]

        # Statistics reach the shared counters when the seeding backend flushes them (both tables at once):
        # wait for the inserts. business_search only holds listed businesses, so its inserts are fewer.
        async def inserts_counted():
            after = await _update_stats(conn)
            return after if after["businesses"][0] - before.get("businesses", (0, 0))[0] >= n else None

        after = await wait_for(
            inserts_counted, message=f"table statistics showing the {n} inserted businesses (before: {before})"
        )
        for table in ("businesses", "business_search"):
            assert after[table][1] == before.get(table, (0, 0))[1], (table, before, after)
        assert await _count(conn, "SELECT count(*) FROM businesses WHERE review_count > 0") > 0
    finally:
        await conn.close()


async def test_reviews_are_unique_per_customer_and_business_and_come_after_both(seeded):
    conn, _counts, _messages = seeded
    assert (
        await _count(conn, "SELECT count(*) FROM (SELECT DISTINCT business_id, user_id FROM reviews) p")
        == (SMALL["reviews"])
    )
    wrong = await conn.fetchval(
        """SELECT count(*) FROM reviews r
           JOIN businesses b ON b.id = r.business_id JOIN users u ON u.id = r.user_id
           WHERE u.role <> 'customer' OR b.status <> 'approved'
              OR r.created_at < b.created_at OR r.created_at < u.created_at OR r.created_at > now()
              OR (r.owner_replied_at IS NOT NULL AND (r.owner_replied_at < r.created_at OR r.owner_reply = ''))"""
    )
    assert wrong == 0


async def test_review_cap_spreads_reviews_when_customers_are_few(clean_db):
    counts = await seed(
        clean_db, businesses=30, customers=5, reviews=100, inquiries=0, events=0, progress=lambda _m: None
    )
    assert counts["reviews"] == 100
    conn = await asyncpg.connect(clean_db)
    try:
        per_business = await conn.fetch("SELECT business_id, count(*) AS n FROM reviews GROUP BY business_id")
        assert max(r["n"] for r in per_business) <= 5
        assert await _count(conn, "SELECT count(*) FROM (SELECT DISTINCT business_id, user_id FROM reviews) p") == 100
    finally:
        await conn.close()


async def test_impossible_review_volume_is_refused_and_nothing_is_written(clean_db):
    with pytest.raises(ValueError, match="unique per"):
        await seed(clean_db, businesses=5, customers=1, reviews=50, progress=lambda _m: None)
    conn = await asyncpg.connect(clean_db)
    try:
        assert await _count(conn, "SELECT count(*) FROM businesses") == 0
        assert await _count(conn, "SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


async def test_refuses_when_businesses_already_exist(seeded, clean_db):
    conn, counts, _messages = seeded
    with pytest.raises(RuntimeError, match="already has rows"):
        await seed(clean_db, businesses=10, progress=lambda _m: None)
    assert await _count(conn, "SELECT count(*) FROM businesses") == counts["businesses"]
    assert await _count(conn, "SELECT count(*) FROM users") == counts["users"]


async def test_businesses_use_sub_categories_and_sectors_or_cells(seeded):
    conn, _counts, _messages = seeded
    rows = await conn.fetch(
        """SELECT c.parent_id, l.level, b.latitude, b.longitude, d.latitude AS d_lat, d.longitude AS d_lon,
                  d.name AS district
           FROM businesses b JOIN categories c ON c.id = b.category_id
           JOIN locations l ON l.id = b.location_id JOIN locations d ON d.id = l.district_id"""
    )
    assert all(r["parent_id"] is not None for r in rows)
    assert {r["level"] for r in rows} <= {"sector", "cell"}
    assert all(abs(r["latitude"] - r["d_lat"]) <= 0.05 + 1e-9 for r in rows)
    assert all(abs(r["longitude"] - r["d_lon"]) <= 0.05 + 1e-9 for r in rows)
    kigali = sum(r["district"] in ("Gasabo", "Kicukiro", "Nyarugenge") for r in rows)
    assert 0.3 < kigali / len(rows) < 0.6
    # The search trigger filled the search vector for every business.
    assert await _count(conn, "SELECT count(*) FROM businesses WHERE search_vector IS NULL") == 0


async def test_events_fall_in_monthly_partitions_over_the_last_six_months(seeded):
    conn, _counts, _messages = seeded
    assert await _count(conn, "SELECT count(*) FROM business_analytics_default") == 0
    low, high = await conn.fetchrow("SELECT min(date), max(date) FROM business_analytics")
    assert high <= date.today()
    assert low >= date.today() - timedelta(days=190)
    assert (
        await _count(
            conn,
            """SELECT count(*) FROM business_analytics e JOIN businesses b ON b.id = e.business_id
               WHERE b.status <> 'approved' OR e.date < b.created_at::date""",
        )
        == 0
    )
    mix = dict(await conn.fetch("SELECT event_type, count(*) FROM business_analytics GROUP BY event_type"))
    clicks = sum(mix.get(t, 0) for t in ("call_click", "whatsapp_click", "website_click", "email_click"))
    assert mix["search_impression"] > mix["profile_view"] > clicks > 0
    assert set(mix) <= {
        "profile_view",
        "search_impression",
        "call_click",
        "whatsapp_click",
        "website_click",
        "email_click",
        "inquiry",
    }


async def test_inquiries_go_to_approved_businesses_in_the_last_six_months(seeded):
    conn, _counts, _messages = seeded
    wrong = await conn.fetchval(
        """SELECT count(*) FROM customer_inquiries i JOIN businesses b ON b.id = i.business_id
           WHERE b.status <> 'approved' OR i.created_at < b.created_at OR i.created_at > now()
              OR i.created_at < now() - interval '190 days'
              OR (i.replied_at IS NOT NULL AND i.replied_at < i.created_at)
              OR i.message = '' OR i.customer_name = '' OR i.idempotency_key IS NOT NULL
              OR (i.preferred_contact = 'email' AND i.customer_email = '')"""
    )
    assert wrong == 0
    languages = dict(await conn.fetch("SELECT language, count(*) FROM customer_inquiries GROUP BY language"))
    assert set(languages) == {"rw", "en", "fr"}
    # Popular businesses get more inquiries than the median one.
    per_business = [
        r["n"] for r in await conn.fetch("SELECT count(*) AS n FROM customer_inquiries GROUP BY business_id ORDER BY 1")
    ]
    assert per_business[-1] > 3 * per_business[len(per_business) // 2]


async def test_business_content_looks_plausible(seeded):
    conn, _counts, _messages = seeded
    rows = await conn.fetch("SELECT * FROM businesses")
    slugs = [r["slug"] for r in rows]
    assert len(set(slugs)) == len(slugs)
    statuses: dict[str, int] = {}
    for r in rows:
        assert r["business_name"].strip()
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r["slug"])
        descriptions = (r["description_en"], r["description_rw"], r["description_fr"])
        assert all(d.strip() for d in descriptions)
        assert len(set(descriptions)) == 3
        assert re.fullmatch(r"\+2507[2389]\d{7}", r["phone"])
        assert r["whatsapp_number"] == "" or re.fullmatch(r"\+2507[2389]\d{7}", r["whatsapp_number"])
        assert r["momo_pay_code"] == "" or re.fullmatch(r"\d{5,6}", r["momo_pay_code"])
        assert r["address"]
        hours = json.loads(r["opening_hours"])
        assert set(hours) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        for spans in hours.values():
            assert all(len(span) == 2 and span[0] < span[1] for span in spans)
        services = json.loads(r["services"])
        assert 2 <= len(services) <= 6
        for s in services:
            assert s["name_en"] and s["name_rw"] and s["name_fr"]
            assert 2000 <= s["price_rwf"] <= 150000 and s["price_rwf"] % 500 == 0
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    assert statuses["approved"] / len(rows) > 0.8
    # Kinyarwanda descriptions read like Kinyarwanda, French ones like French.
    rw_text = " ".join(r["description_rw"] for r in rows)
    fr_text = " ".join(r["description_fr"] for r in rows)
    assert "Akarere" in rw_text or "Turi i" in rw_text
    assert "propose" in fr_text
