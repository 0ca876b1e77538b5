"""Log-in limits under truly concurrent requests, through `servicerw serve` with two Granian workers (the test
client runs one request at a time, in one process). Counters are incremented atomically in Valkey before the
password is checked; while Valkey is down each worker allows limit / workers, so the limit is not multiplied.

"Checked" = the password was verified: the form comes back 422 ("Wrong email or password"); refused = 429."""

from __future__ import annotations

import asyncio
import os
import re

import httpx
import pytest
from argon2 import PasswordHasher

from servicerw.accounts.limits import ADDRESS, PAIR
from tests.helpers import HTML, STRONG, free_port
from tests.services import start_server, stop_server

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the server's counters live in the run's Valkey
PASSWORD_HASH = PasswordHasher().hash(STRONG)


@pytest.fixture(scope="module")
def live_server(migrated_db):
    """Two workers; X-Forwarded-For believed from 127.0.0.1 (as from a proxy) so tests can vary the address."""
    env = {**os.environ, "DATABASE_POOL_MAX": "10", "TRUSTED_PROXIES": "127.0.0.1"}
    server, url = start_server(env, free_port(), workers=2)
    yield url
    stop_server(server)


async def make_accounts(db, *emails: str) -> None:
    for email in emails:
        await db.execute(
            "INSERT INTO users (email, full_name, password_hash, role) VALUES ($1, 'Aline', $2, 'owner')",
            email,
            PASSWORD_HASH,
        )


async def attempts(url: str, tries: list[tuple[str, str, str | None]]) -> list[int]:
    """POST /account/login for each (email, password, X-Forwarded-For) at once; the statuses."""
    async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=60) as client:
        page = (await client.get("/account/login")).text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)

        async def one(email: str, password: str, forwarded: str | None) -> int:
            headers = {"x-forwarded-for": forwarded} if forwarded else {}
            data = {"_csrf_token": token, "email": email, "password": password, "next": "/account"}
            return (await client.post("/account/login", data=data, headers=headers)).status_code

        return list(await asyncio.gather(*(one(*attempt) for attempt in tries)))


async def test_twenty_simultaneous_wrong_passwords_on_one_account_check_at_most_ten(db, live_server):
    await make_accounts(db, "aline@example.rw")
    statuses = await attempts(live_server, [("aline@example.rw", f"wrong guess {n}", None) for n in range(20)])
    assert set(statuses) <= {422, 429}, statuses
    assert 1 <= statuses.count(422) <= PAIR[0], statuses  # before: 17 of 20 checked


async def test_twenty_simultaneous_log_ins_from_one_address_check_at_most_ten(db, live_server):
    emails = [f"user{n}@example.rw" for n in range(20)]
    await make_accounts(db, *emails)
    statuses = await attempts(live_server, [(email, "wrong guess here", "203.0.113.5") for email in emails])
    assert set(statuses) <= {422, 429}, statuses
    assert 1 <= statuses.count(422) <= ADDRESS[0], statuses  # before: 15 of 20 checked


async def test_an_attacker_locks_only_their_own_address_not_the_owner(db, live_server):
    await make_accounts(db, "aline@example.rw")
    attacker = [("aline@example.rw", f"wrong guess {n}", "198.51.100.7") for n in range(PAIR[0] + 2)]
    statuses = []
    for attempt in attacker:  # one after another: exactly the limit is checked
        statuses += await attempts(live_server, [attempt])
    assert statuses == [422] * PAIR[0] + [429] * 2
    assert await attempts(live_server, [("aline@example.rw", STRONG, "198.51.100.7")]) == [429]
    assert await attempts(live_server, [("aline@example.rw", STRONG, "192.0.2.44")]) == [303]  # the owner


async def test_with_valkey_down_two_workers_together_check_at_most_the_limit(db, migrated_db, valkey_server):
    """The finding: 30 wrong passwords with Valkey down → 20 checked with 2 workers (10 per process)."""
    process, valkey_url = valkey_server
    env = {**os.environ, "DATABASE_POOL_MAX": "10", "VALKEY_URL": valkey_url}
    server, url = start_server(env, free_port(), workers=2)
    try:
        await make_accounts(db, "aline@example.rw")
        process.kill()
        process.wait()
        statuses = await attempts(url, [("aline@example.rw", f"wrong guess {n}", None) for n in range(30)])
        statuses += await attempts(url, [("aline@example.rw", f"wrong guess {n}", None) for n in range(30)])
    finally:
        stop_server(server)
    assert set(statuses) <= {422, 429}, statuses  # no 500 or 503: log-in keeps working, with smaller limits
    assert 1 <= statuses.count(422) <= PAIR[0], statuses
