"""The public API on a real server with two worker processes: the rate limit holds across processes, and the
contract test — schemathesis generating requests from the served OpenAPI document — finds no 5xx and no answer
that disagrees with the document."""

from __future__ import annotations

import asyncio
import os
import time

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.factories import make_business
from tests.helpers import api_key, bearer, free_port, wait_for
from tests.services import start_server, stop_server

MIN_CASES = 1000
EXAMPLES = 100  # valid requests per operation, and half as many invalid ones: 10 operations, ~1,500 cases


@pytest.fixture(scope="module")
def live_api(migrated_db):
    # 150 requests at once must all reach the API limiter: none shed as overload (MAX_IN_FLIGHT) or refused after
    # waiting for one of the 10 connections on a busy machine (DATABASE_POOL_TIMEOUT).
    overrides = {"DATABASE_POOL_MAX": "10", "MAX_IN_FLIGHT": "0", "DATABASE_POOL_TIMEOUT": "30"}
    server, url = start_server({**os.environ, **overrides}, free_port(), workers=2)
    yield url
    stop_server(server)


@pytest.fixture(scope="module")
async def api_data(live_api, migrated_db):
    """Businesses, reviews, an owner with messages and a premium key (for the contract test)."""
    conn = await asyncpg.connect(migrated_db)
    try:
        await conn.execute("TRUNCATE users, businesses, api_keys RESTART IDENTITY CASCADE")
        key, user_id = await api_key(conn, email="contract@example.rw", tier="premium")
        for i in range(30):
            shop = await make_business(
                conn, business_name=f"Contract Shop {i}", slug=f"contract-shop-{i}", owner_id=user_id if i < 2 else None
            )
            await conn.execute(
                """INSERT INTO customer_inquiries (business_id, customer_name, customer_phone, message, status,
                                                   preferred_contact, idempotency_key)
                   VALUES ($1, 'Claudine', '0788555123', 'Can you come on Saturday morning?', 'new', 'phone',
                           gen_random_uuid())""",
                shop["id"],
            )
        return {"key": key, "url": live_api}
    finally:
        await conn.close()


async def test_150_concurrent_requests_with_a_free_key_get_exactly_100_answers(api_data, migrated_db):
    conn = await asyncpg.connect(migrated_db)
    try:
        key, _ = await api_key(conn, email="burst@example.rw", tier="free")
    finally:
        await conn.close()
    # The windows are aligned to the clock: start the burst well inside one.
    await wait_for(lambda: time.time() % 900 < 880, timeout=30, message="a fresh part of the window")
    limits = httpx.Limits(max_connections=150, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=api_data["url"], limits=limits, timeout=60) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/categories", headers=bearer(key)) for _ in range(150)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 100 and statuses.count(429) == 50, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json" and int(refused.headers["retry-after"]) > 0


def test_every_generated_request_gets_a_documented_answer_and_no_5xx(api_data):
    """For every operation of the served document, valid (positive) and invalid (negative) requests with the
    premium key: schemathesis's checks (no 5xx, status code, content type, headers and body as documented,
    invalid input refused) on each answer."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(api_data["url"] + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10
    auth = {"Authorization": f"Bearer {api_data['key']}"}
    cases = 0
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, EXAMPLES), (GenerationMode.NEGATIVE, EXAMPLES // 2)):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
            def check(case):
                nonlocal cases
                cases += 1
                case.call_and_validate(headers={**auth, **(case.headers or {})})

            try:
                check()
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters (categories, places…).
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert cases >= MIN_CASES, cases
