"""Concurrent writes through a real server: Litestar's test client runs one request at a time, so these tests
start `servicerw serve` (Granian) on the test services and send truly concurrent HTTP requests."""

from __future__ import annotations

import asyncio
import os
import re

import httpx
import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, free_port
from tests.services import start_server, stop_server


@pytest.fixture(scope="module")
def live_server(migrated_db):
    """The app in a Granian process on the test services (the environment set by conftest)."""
    server, url = start_server({**os.environ, "DATABASE_POOL_MAX": "20"}, free_port())
    yield url
    stop_server(server)


def token_of(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def test_twenty_concurrent_submissions_of_one_key_make_one_inquiry_and_one_pair_of_emails(db, live_server):
    owner_id = await db.fetchval(
        "INSERT INTO users (email, full_name, role) VALUES ('owner@example.rw', 'Jean', 'owner') RETURNING id"
    )
    shop = await make_business(db, slug="amazi-plumbing", owner_id=owner_id)
    async with httpx.AsyncClient(base_url=live_server, headers=HTML) as client:
        page = (await client.get(f"/b/{shop['slug']}")).text
        data = {
            "_csrf_token": token_of(page),
            "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
            "name": "Claudine Mukamana",
            "phone": "0788 555 123",
            "email": "claudine@example.rw",
            "preferred_contact": "phone",
            "message": "My kitchen sink leaks. Can you come on Saturday morning?",
        }
        responses = await asyncio.gather(*(client.post(f"/b/{shop['slug']}/inquiries", data=data) for _ in range(20)))
    assert {r.status_code for r in responses} == {303}
    assert {r.headers["location"] for r in responses} == {f"/b/amazi-plumbing/inquiries/{data['key']}"}
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 1
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'inquiry_business'") == 1
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'inquiry_customer'") == 1


async def test_rating_and_count_stay_exact_under_concurrent_moderation(db, live_server):
    """40 pending reviews, moderated in two waves of 40 concurrent requests (all approved, then a third
    rejected): the stored rating and count equal the aggregate of the approved reviews."""
    password_hash = PasswordHasher().hash(STRONG)
    await db.execute(
        """INSERT INTO users (email, full_name, password_hash, role)
           VALUES ('admin@example.rw', 'Admin', $1, 'admin')""",
        password_hash,
    )
    shop = await make_business(db)
    ids = []
    for i in range(40):
        user = await db.fetchval(
            "INSERT INTO users (email, full_name) VALUES ($1, 'Customer') RETURNING id", f"c{i}@example.rw"
        )
        ids.append(
            await db.fetchval(
                "INSERT INTO reviews (business_id, user_id, rating, body) VALUES ($1, $2, $3, $4) RETURNING id",
                shop["id"],
                user,
                1 + (i * 7) % 5,
                f"Concurrent review {i}",
            )
        )
    # Widen the race window: the rating update holds the business row 20 ms longer before its commit, so
    # concurrent recomputations start while it is uncommitted (without the business row lock taken before
    # anything else, they would count from a snapshot that misses it, and this test fails).
    await db.execute(
        """CREATE FUNCTION test_slow_review() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END $$"""
    )
    await db.execute(
        "CREATE TRIGGER slow_review AFTER UPDATE ON businesses FOR EACH ROW EXECUTE FUNCTION test_slow_review()"
    )
    try:
        async with httpx.AsyncClient(base_url=live_server, headers=HTML) as client:
            token = token_of((await client.get("/account/login")).text)
            login = await client.post(
                "/account/login",
                data={"_csrf_token": token, "email": "admin@example.rw", "password": STRONG, "next": "/admin"},
            )
            assert login.status_code == 303

            async def decide(review_id: int, decision: str) -> int:
                response = await client.post(
                    f"/admin/reviews/{review_id}", data={"_csrf_token": token, "decision": decision}
                )
                return response.status_code

            first = await asyncio.gather(*(decide(i, "approve") for i in ids))
            second = await asyncio.gather(
                *(decide(i, "reject" if n % 3 == 0 else "approve") for n, i in enumerate(ids))
            )
        assert set(first) == set(second) == {303}
    finally:
        await db.execute("DROP TRIGGER slow_review ON businesses")
        await db.execute("DROP FUNCTION test_slow_review()")
    stored = await db.fetchrow("SELECT average_rating, review_count FROM businesses WHERE id = $1", shop["id"])
    truth = await db.fetchrow(
        """SELECT round(avg(rating), 2) AS average, count(*) AS n FROM reviews
           WHERE business_id = $1 AND status = 'approved'""",
        shop["id"],
    )
    assert truth["n"] == 26
    assert stored["review_count"] == truth["n"] and stored["average_rating"] == truth["average"]
    # The search copy follows (its trigger): search results show the same rating.
    search_rating = await db.fetchval("SELECT rating FROM business_search WHERE business_id = $1", shop["id"])
    assert search_rating == pytest.approx(float(truth["average"]))


async def test_parallel_uploads_never_exceed_the_photo_quota(db, live_server):
    """4 uploads of 6 photos at once for a business with none: at most 12 are stored (the count happens with
    the business row locked; counted apart, the uploads each saw room and 13+ were stored)."""
    import io

    from PIL import Image

    password_hash = PasswordHasher().hash(STRONG)
    owner_id = await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role)
           VALUES ('owner@example.rw', 'Aline', $1, 'owner') RETURNING id""",
        password_hash,
    )
    shop = await make_business(db, owner_id=owner_id)
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 60, 40)).save(buf, "PNG")
    photo = buf.getvalue()
    # Widen the race window: each count waits 50 ms before its insert can follow.
    await db.execute(
        """CREATE FUNCTION test_slow_image() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END $$"""
    )
    await db.execute(
        "CREATE TRIGGER slow_image BEFORE INSERT ON business_images FOR EACH ROW EXECUTE FUNCTION test_slow_image()"
    )
    try:
        async with httpx.AsyncClient(base_url=live_server, headers=HTML, timeout=60) as client:
            token = token_of((await client.get("/account/login")).text)
            login = await client.post(
                "/account/login",
                data={"_csrf_token": token, "email": "owner@example.rw", "password": STRONG, "next": "/dashboard"},
            )
            assert login.status_code == 303

            async def upload(n: int) -> int:
                files = [("photos", (f"p{n}-{i}.png", photo, "image/png")) for i in range(6)]
                response = await client.post(
                    f"/dashboard/{shop['id']}/photos", data={"_csrf_token": token}, files=files
                )
                return response.status_code

            statuses = await asyncio.gather(*(upload(n) for n in range(4)))
    finally:
        await db.execute("DROP TRIGGER slow_image ON business_images")
        await db.execute("DROP FUNCTION test_slow_image()")
    assert set(statuses) <= {200, 413}
    assert 413 in statuses
    assert await db.fetchval("SELECT count(*) FROM business_images WHERE business_id = $1", shop["id"]) == 12
