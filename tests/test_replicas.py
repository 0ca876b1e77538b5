"""Read replicas against a real streaming replica (tests/replication.py starts a primary + replica pair of
its own): lag-tolerant reads are answered by the replica, a writer reads its own writes, a lagging replica
is skipped, and a replica that dies under traffic costs no page."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, csrf, free_port, log_in, wait_for
from tests.replication import StreamingPair
from tests.services import start_server, stop_server

DATABASE = "servicerw_replicas"


@pytest.fixture(scope="module")
def pair():
    """The primary (with the schema from `servicerw migrate`) and its replica; removed at the end."""
    StreamingPair.clean_abandoned()
    streaming = StreamingPair()
    try:
        streaming.start()
        streaming.psql(f"CREATE DATABASE {DATABASE}")
        servicerw = str(Path(sys.executable).with_name("servicerw"))
        subprocess.run(
            [servicerw, "migrate"],
            env={**os.environ, "DATABASE_URL": streaming.primary_url(DATABASE)},
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield streaming
    finally:
        streaming.close()


def _server(pair: StreamingPair, max_lag: str):
    env = {
        **os.environ,
        "DATABASE_URL": pair.primary_url(DATABASE),
        "DATABASE_REPLICA_URLS": pair.replica_url(DATABASE),
        "DATABASE_REPLICA_MAX_LAG": max_lag,
        "DATABASE_REPLICA_CHECK_INTERVAL": "0.2",
        "DATABASE_POOL_MAX": "4",
        "VALKEY_URL": "",  # its own in-process cache: the run's Valkey holds the other tests' entries
        "WEB_BACKGROUND": "false",
    }
    return start_server(env, free_port())


@pytest.fixture(scope="module")
def tolerant(pair):
    """An app that keeps reading a replica up to an hour behind (so a paused replica stays in use)."""
    server, url = _server(pair, "3600")
    yield url
    stop_server(server)


@pytest.fixture(scope="module")
def strict(pair):
    """An app that skips a replica more than 1 s behind."""
    server, url = _server(pair, "1")
    yield url
    stop_server(server)


@pytest.fixture
async def primary(pair):
    conn = await asyncpg.connect(pair.primary_url(DATABASE))
    yield conn
    await conn.close()


@pytest.fixture
async def replica(pair):
    """A connection to the replica; replay is resumed after the test (tests pause it)."""
    conn = await asyncpg.connect(pair.replica_url(DATABASE))
    yield conn
    if not conn.is_closed():
        await conn.execute("SELECT pg_wal_replay_resume()")
        await conn.close()


async def replicated(replica, slug: str, name: str) -> None:
    async def there():
        return await replica.fetchval("SELECT business_name FROM businesses WHERE slug = $1", slug) == name

    await wait_for(there, timeout=30, message=f"{slug} named {name!r} on the replica")


async def replica_state(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        body = (await client.get("/readyz")).json()
    return body["replicas"][0]["state"]


async def test_search_profile_and_browse_are_read_on_the_replica(tolerant, primary, replica):
    shop = await make_business(primary, business_name="Ubumwe Plumbing", slug="ubumwe-plumbing")
    await replicated(replica, shop["slug"], "Ubumwe Plumbing")
    await replica.execute("SELECT pg_wal_replay_pause()")
    await primary.execute("UPDATE businesses SET business_name = 'Ubumwe Pipes' WHERE id = $1", shop["id"])

    async with httpx.AsyncClient(base_url=tolerant, headers=HTML) as client:
        # The replica has not replayed the rename: the pages show the name it still has.
        profile = await client.get("/b/ubumwe-plumbing")
        found = await client.get("/search", params={"q": "ubumwe"})
        browse = await client.get("/c/plumbers")
        api = await client.get("/api/v1/search", params={"q": "ubumwe"}, headers={"accept": "application/json"})
        ready = (await client.get("/readyz")).json()
    assert profile.status_code == found.status_code == browse.status_code == api.status_code == 200
    assert "Ubumwe Plumbing" in profile.text and "Ubumwe Pipes" not in profile.text
    assert "Ubumwe Plumbing" in found.text and "Ubumwe Pipes" not in found.text
    assert "Ubumwe Plumbing" in browse.text
    assert [item["name"] for item in api.json()["items"]] == ["Ubumwe Plumbing"]
    assert ready["replicas"][0]["state"] == "in use"
    # The app's read connections are on the replica, which is a standby.
    assert await replica.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'servicerw-read' AND datname = $1", DATABASE
    )
    assert await replica.fetchval("SELECT pg_is_in_recovery()")


async def test_a_writer_sees_its_write_at_once_while_the_replica_lags(tolerant, primary, replica):
    password_hash = PasswordHasher().hash(STRONG)
    owner_id = await primary.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, email_verified_at)
           VALUES ('owner@example.rw', 'Jean', $1, 'owner', now()) RETURNING id""",
        password_hash,
    )
    customer = await primary.fetchval("INSERT INTO users (email, full_name) VALUES ('c@example.rw', 'C') RETURNING id")
    shop = await make_business(primary, business_name="Isoko Garage", slug="isoko-garage", owner_id=owner_id)
    review_id = await primary.fetchval(
        """INSERT INTO reviews (business_id, user_id, rating, body, status)
           VALUES ($1, $2, 4, 'Quick and fair.', 'approved') RETURNING id""",
        shop["id"],
        customer,
    )
    await replicated(replica, "isoko-garage", "Isoko Garage")
    await wait_for(lambda: replica.fetchval("SELECT count(*) FROM reviews WHERE id = $1", review_id), timeout=30)
    await replica.execute("SELECT pg_wal_replay_pause()")

    async with httpx.AsyncClient(base_url=tolerant, headers=HTML) as owner:
        assert (await log_in(owner, "owner@example.rw")).status_code == 303
        token = await csrf(owner, f"/dashboard/{shop['id']}/reviews")
        saved = await owner.post(
            f"/dashboard/{shop['id']}/reviews/{review_id}/reply",
            data={"_csrf_token": token, "reply": "Murakoze, see you next time."},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert "rw_primary=" in saved.headers["set-cookie"]
        # The owner's page and the public profile, right after the save, show the reply...
        dashboard = await owner.get(f"/dashboard/{shop['id']}/reviews")
        profile = await owner.get("/b/isoko-garage")
    assert dashboard.status_code == profile.status_code == 200
    assert "Murakoze, see you next time." in dashboard.text
    assert "Murakoze, see you next time." in profile.text
    # ... which the (paused) replica does not have yet: they were read on the primary.
    assert await replica.fetchval("SELECT owner_reply FROM reviews WHERE id = $1", review_id) == ""
    # A visitor without the cookie still reads the replica (a search not cached yet): the lag is visible there.
    await primary.execute("UPDATE businesses SET business_name = 'Isoko Motors' WHERE id = $1", shop["id"])
    async with httpx.AsyncClient(base_url=tolerant, headers=HTML) as visitor:
        found = await visitor.get("/search", params={"q": "isoko garage"})
    assert "Isoko Garage" in found.text and "Isoko Motors" not in found.text


async def test_a_lagging_replica_is_skipped(strict, primary, replica):
    shop = await make_business(primary, business_name="Kigali Salon", slug="kigali-salon")
    await replicated(replica, shop["slug"], "Kigali Salon")
    await wait_for(lambda: _state_is(strict, "in use"), timeout=30, message="the replica in use")
    await replica.execute("SELECT pg_wal_replay_pause()")
    await primary.execute("UPDATE businesses SET business_name = 'Kigali Beauty' WHERE id = $1", shop["id"])
    # More than a second behind: the background check stops using it.
    await wait_for(lambda: _state_is(strict, "lagging"), timeout=30, message="the replica skipped as lagging")
    async with httpx.AsyncClient(base_url=strict, headers=HTML) as client:
        profile = await client.get("/b/kigali-salon")
        found = await client.get("/search", params={"q": "kigali beauty"})
    assert profile.status_code == found.status_code == 200
    assert "Kigali Beauty" in profile.text
    assert "Kigali Beauty" in found.text
    await replica.execute("SELECT pg_wal_replay_resume()")
    await wait_for(lambda: _state_is(strict, "in use"), timeout=30, message="the replica in use again once caught up")


async def _state_is(url: str, state: str) -> bool:
    return await replica_state(url) == state


WORDS = ("amahoro", "cafe", "kawa", "icyayi", "inyange", "ubuki")


def pages(n: int) -> list[str]:
    """Round `n`'s pages: other query texts, page numbers and businesses than the other rounds', so that the
    reads go past the cache down to the database."""
    word, slug = WORDS[n % len(WORDS)], f"amahoro-cafe-{n}"
    return [
        f"/search?q={word}&page={1 + n // len(WORDS)}",
        f"/b/{slug}",
        f"/c/plumbers?page={1 + n}",
        f"/p/gasabo?page={1 + n}",
        f"/search/suggest?q={word}{n}",
        f"/api/v1/search?q={word}&page={1 + n // len(WORDS)}",
        f"/api/v1/businesses/{slug}",
        f"/api/v1/businesses/{slug}/reviews?page={1 + n}",
    ]


async def test_stopping_the_replica_under_traffic_leaves_every_page_working(pair, tolerant, primary, replica):
    for n in range(12):
        await make_business(primary, business_name=f"Amahoro Cafe {n}", slug=f"amahoro-cafe-{n}")
    await replicated(replica, "amahoro-cafe-11", "Amahoro Cafe 11")
    await replica.close()
    await wait_for(lambda: _state_is(tolerant, "in use"), timeout=30, message="the replica in use")

    async with httpx.AsyncClient(base_url=tolerant, headers=HTML, timeout=60) as client:

        async def browse(rounds: range) -> list[tuple[str, int]]:
            return [(page, (await client.get(page)).status_code) for n in rounds for page in pages(n)]

        before = await browse(range(0, 1))
        traffic = asyncio.gather(browse(range(1, 6)), browse(range(6, 11)))
        await asyncio.to_thread(pair.stop_replica)
        during = await traffic
        after = await browse(range(11, 12))
        ready = await client.get("/readyz")
    try:
        for page, status in before + during[0] + during[1] + after:
            assert status == 200, page
        assert ready.status_code == 200 and ready.json()["replicas"][0]["state"] == "down"
    finally:
        await asyncio.to_thread(pair.start_replica)
    await wait_for(lambda: _state_is(tolerant, "in use"), timeout=60, message="the replica in use once restarted")


def test_an_idle_primary_is_no_lag_and_a_stalled_replica_is():
    """Lag as the checks judge it: 0 once the replica has replayed the primary's position; else from the newest
    primary position sample it has replayed, or its last replayed commit's age, whichever is smaller."""
    from servicerw.core.replicas import ReplicaSet, parse_lsn
    from servicerw.settings import DatabaseSettings

    checks = ReplicaSet(DatabaseSettings(url="postgresql://primary/db", replica_urls=("postgresql://replica/db",)))
    now = time.monotonic()
    checks.samples.extend([(now - 30, 0x100), (now - 20, 0x200), (now - 10, 0x300)])

    def lag(replayed: str, behind: float | None, standby: bool = True) -> float:
        return checks._lag({"standby": standby, "replayed": replayed, "behind": behind}, 0x400)

    # No commit for an hour, but nothing left to replay: no lag.
    assert lag("0/400", 3600.0) == 0.0
    # Replay stopped at the position the primary had 20 s ago: about 20 s, not the hour since its last commit.
    assert 19 < lag("0/200", 3600.0) < 22
    # Behind every sample: the age of the last replayed commit.
    assert lag("0/10", 5.0) == 5.0
    assert lag("0/10", None) == float("inf")
    assert lag("", None, standby=False) == 0.0  # not a standby: current by definition
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
