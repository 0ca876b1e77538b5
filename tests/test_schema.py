"""The schema built by the migrations: the plan's tables, indexes, partitions and reference data."""

from datetime import date

import pytest

from tests.factories import make_business

PLAN_INDEXES = {
    "idx_businesses_search_vector": "businesses",
    "idx_businesses_location_category": "businesses",
    "idx_businesses_featured_active": "businesses",
    "idx_customer_inquiries_business_status": "customer_inquiries",
    "idx_reviews_business_rating": "reviews",
    "idx_business_analytics_aggregation": "business_analytics",
    "idx_businesses_name_trgm": "businesses",
}


async def test_every_index_of_the_plan_exists_under_its_name_and_is_valid(db):
    rows = await db.fetch(
        """SELECT c.relname AS index, t.relname AS table, i.indisvalid AS valid
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
           WHERE c.relname = ANY($1::text[])""",
        list(PLAN_INDEXES),
    )
    found = {r["index"]: (r["table"], r["valid"]) for r in rows}
    assert {name: table for name, (table, _v) in found.items()} == PLAN_INDEXES
    assert all(valid for _t, valid in found.values())


async def test_partial_indexes_have_the_plans_conditions(db):
    defs = dict(await db.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'idx_%'"))
    assert (
        "WHERE" in defs["idx_businesses_location_category"] and "approved" in defs["idx_businesses_location_category"]
    )
    assert "is_active" in defs["idx_businesses_featured_active"]
    assert "(business_id, rating, created_at)" in defs["idx_reviews_business_rating"]
    assert "(business_id, status, created_at)" in defs["idx_customer_inquiries_business_status"]
    assert "gin_trgm_ops" in defs["idx_businesses_name_trgm"]


async def test_places_follow_rwandas_official_hierarchy(db):
    counts = dict(await db.fetch("SELECT level, count(*) FROM locations GROUP BY level"))
    assert counts == {"province": 5, "district": 30, "sector": 416, "cell": 2148}
    kimironko = await db.fetchrow(
        """SELECT s.code, d.name AS district, p.name AS province, s.latitude FROM locations s
           JOIN locations d ON d.id = s.district_id JOIN locations p ON p.id = s.province_id
           WHERE s.level = 'sector' AND s.name = 'Kimironko'"""
    )
    assert kimironko["district"] == "Gasabo" and kimironko["province"] == "Kigali City"
    assert kimironko["code"] == "010209" and kimironko["latitude"] is not None
    assert await db.fetchval("SELECT count(*) FROM locations WHERE level = 'district' AND latitude IS NULL") == 0


async def test_categories_have_two_levels_in_three_languages(db):
    rows = await db.fetch(
        "SELECT c.*, p.parent_id AS grand FROM categories c LEFT JOIN categories p ON p.id = c.parent_id"
    )
    assert len([r for r in rows if r["parent_id"] is None]) >= 8
    assert all(r["grand"] is None for r in rows)  # never a third level
    assert all(r["name_en"] and r["name_rw"] and r["name_fr"] for r in rows)


async def test_analytics_is_partitioned_by_month_ahead_of_time(db):
    parts = {
        r["relname"]
        for r in await db.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'business_analytics'::regclass"
        )
    }
    this_month = date.today().strftime("business_analytics_%Y_%m")
    assert this_month in parts and "business_analytics_default" in parts
    assert len(parts) >= 25  # 12 months back, this month, 12 ahead, default


async def test_no_analytics_insert_ever_fails_and_strays_move_into_their_month(db):
    business = await make_business(db)
    far = date(date.today().year + 5, 3, 14)
    await db.execute(
        "INSERT INTO business_analytics (business_id, date, event_type) VALUES ($1, $2, 'profile_view')",
        business["id"],
        far,
    )
    assert await db.fetchval("SELECT count(*) FROM business_analytics_default") == 1
    # When that month's partition is created later, the stray row moves into it.
    months_ahead = (far.year - date.today().year) * 12 + far.month - date.today().month
    await db.execute("SELECT servicerw_ensure_analytics_partitions(0, $1)", months_ahead)
    assert await db.fetchval("SELECT count(*) FROM business_analytics_default") == 0
    assert await db.fetchval(f"SELECT count(*) FROM business_analytics_{far:%Y_%m}") == 1


async def test_search_vector_is_weighted_and_covers_three_languages_and_places(db):
    business = await make_business(
        db, business_name="Amazi Meza Plumbing", description_fr="Réparation de chauffe-eau à domicile"
    )
    vector = await db.fetchval("SELECT search_vector::text FROM businesses WHERE id = $1", business["id"])
    assert "'amazi':1A" in vector  # the name, weight A
    assert "'plumber'" in vector or "'plumbers'" in vector  # the category
    assert "'kimironko'" in vector and "'gasabo'" in vector  # the place
    assert "'chauffe'" in vector  # French description, unaccented
    assert "'amatiyo'" in vector  # Kinyarwanda description


PLAN_QUERIES = {
    "idx_businesses_featured_active": "SELECT id FROM businesses WHERE status = 'approved' AND is_active "
    "AND is_featured ORDER BY created_at DESC LIMIT 8",
    "idx_businesses_location_category": "SELECT id FROM businesses WHERE status = 'approved' "
    "AND location_id = 5 AND category_id = 3",
    "idx_businesses_search_vector": "SELECT id FROM businesses WHERE status = 'approved' AND is_active "
    "AND search_vector @@ to_tsquery('simple', 'plumb:*')",
    "idx_businesses_name_trgm": "SELECT id FROM businesses WHERE status = 'approved' AND is_active "
    "AND servicerw_unaccent(business_name) % 'Urumuri'",
    "idx_customer_inquiries_business_status": "SELECT id FROM customer_inquiries WHERE business_id = 1 "
    "AND status = 'new' ORDER BY created_at DESC",
    "idx_reviews_business_rating": "SELECT rating, count(*) FROM reviews WHERE business_id = 1 "
    "AND status = 'approved' GROUP BY rating",
    "idx_business_analytics_aggregation": "SELECT event_type, count(*) FROM business_analytics "
    "WHERE business_id = 1 AND date >= current_date - 30 GROUP BY event_type",
}


async def test_indexes_serve_the_plans_queries(db, clean_db):
    """Each hot query of the plan can be answered by its named index. At test scale the planner may
    prefer another partial index with the same predicate, so the others are dropped inside a
    transaction that is rolled back (the full-volume plans are in README, from bench/explain.py)."""
    from servicerw.seed.generator import seed

    await seed(clean_db, businesses=300, random_seed=3, progress=lambda _m: None)
    await db.execute("ANALYZE")
    for index, query in PLAN_QUERIES.items():
        tx = db.transaction()
        await tx.start()
        try:
            await db.execute("SET LOCAL enable_seqscan = off")
            for other in PLAN_QUERIES:
                if other != index and other.startswith("idx_businesses") and index.startswith("idx_businesses"):
                    await db.execute(f"DROP INDEX {other}")
            plan = "\n".join(r[0] for r in await db.fetch("EXPLAIN " + query))
        finally:
            await tx.rollback()
        expected = "business_analytics_" if index == "idx_business_analytics_aggregation" else index
        assert expected in plan, (index, plan)


@pytest.mark.parametrize("status", ["deleted", "APPROVED"])
async def test_business_status_outside_the_plan_is_refused(db, status):
    import asyncpg

    with pytest.raises(asyncpg.CheckViolationError):
        await make_business(db, status=status)
