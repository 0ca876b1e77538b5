"""Helpers shared by the tests: waiting for a positive signal, free ports, and the account and listing forms.

Test modules import from here (or use conftest fixtures), never from each other or from a conftest:
tests/test_harness.py checks it.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import time
from collections.abc import Callable
from typing import Any

HTML = {"accept": "text/html", "accept-language": "en"}
STRONG = "inkoko zirarira kare"  # a password the accounts accept


# --- waiting --------------------------------------------------------------------------------------


def _timed_out(predicate: Callable[[], Any], message: str | None, timeout: float, last: Any) -> AssertionError:
    what = message or getattr(predicate, "__qualname__", repr(predicate))
    return AssertionError(f"{what}: not reached within {timeout:g} s (last value: {last!r})")


async def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, reported with the last value seen
    interval: float = 0.05,
    message: str | None = None,
) -> Any:
    """Call `predicate` (sync, or async: its result is awaited) until it returns something truthy, and return
    that value. Fails with an AssertionError naming `message` (else the predicate) and the last value seen
    once `timeout` seconds have passed. A test waits for a positive signal with this, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(predicate, message, timeout, value)
        await asyncio.sleep(interval)


def wait_for_sync(
    predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05, message: str | None = None
) -> Any:
    """`wait_for` for code without an event loop (starting service processes): `predicate` is synchronous."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(predicate, message, timeout, value)
        time.sleep(interval)


# --- ports ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- accounts -------------------------------------------------------------------------------------


async def csrf(client, path: str = "/account/signup") -> str:
    """The CSRF token of the form on `path`."""
    page = await client.get(path, headers=HTML)
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


async def sign_up(client, email="aline@example.rw", password=STRONG, role="owner"):
    token = await csrf(client)
    return await client.post(
        "/account/signup",
        data={
            "_csrf_token": token,
            "full_name": "Aline Uwase",
            "email": email,
            "phone": "+250788123456",
            "password": password,
            "role": role,
        },
        headers=HTML,
        follow_redirects=False,
    )


async def log_in(client, email="aline@example.rw", password=STRONG, headers=None):
    token = await csrf(client, "/account/login")
    return await client.post(
        "/account/login",
        data={"_csrf_token": token, "email": email, "password": password, "next": "/account"},
        headers={**HTML, **(headers or {})},
        follow_redirects=False,
    )


# --- listings -------------------------------------------------------------------------------------

OPEN_WEEK = {
    "mon_open1": "08:00",
    "mon_close1": "12:00",
    "mon_open2": "14:00",
    "mon_close2": "18:00",
    "sat_open1": "09:00",
    "sat_close1": "13:00",
    "sun_closed": "1",
    "weekdays_same": "1",
}


async def owner(client, email: str) -> None:
    """A new owner account `email`, logged in (the client's cookies are cleared first)."""
    client.cookies.clear()
    token = await csrf(client)
    response = await client.post(
        "/account/signup",
        data={"_csrf_token": token, "full_name": "Owner " + email, "email": email, "password": STRONG, "role": "owner"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303


async def french_owners_shop(db) -> dict:
    """Amazi Plumbing, approved, owned by Jean Habimana (owner@example.rw, French), who can log in with STRONG."""
    from argon2 import PasswordHasher

    from tests.factories import make_business

    owner_id = await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ('owner@example.rw', 'Jean Habimana', $1, 'owner', 'fr', true) RETURNING id""",
        PasswordHasher().hash(STRONG),
    )
    return await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing", owner_id=owner_id)


async def log_in_operator(client, db, email: str = "ops@example.rw") -> None:
    """A new administrator account `email`, logged in (signed up as a customer, promoted in the database)."""
    client.cookies.clear()
    assert (await sign_up(client, email, role="customer")).status_code == 303
    await db.execute("UPDATE users SET role = 'admin' WHERE email = $1", email)
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303


async def listing_form(db, **overrides) -> dict:
    """A valid new-listing form (a tailor in Kicukiro/Niboye), with `overrides`."""
    category = await db.fetchval("SELECT id FROM categories WHERE slug = 'tailors'")
    sector = await db.fetchrow(
        "SELECT s.id, s.province_id, s.district_id FROM locations s WHERE s.slug = 'kicukiro-niboye'"
    )
    form = {
        "business_name": "Niboye Couture",
        "category_id": str(category),
        "province_id": str(sector["province_id"]),
        "district_id": str(sector["district_id"]),
        "sector_id": str(sector["id"]),
        "address": "KK 15 Rd",
        "phone": "+250 788 555 111",
        "whatsapp_number": "0788555111",
        "email": "Couture@Example.rw",
        "website": "niboye-couture.rw",
        "momo_pay_code": "445566",
        "description_en": "Made-to-measure clothes.",
        "description_rw": "Tudoda imyenda igukwiriye.",
        "description_fr": "",
        "latitude": "-1.99",
        "longitude": "30.10",
        "service0_name_en": "Shirt",
        "service0_name_rw": "Ishati",
        "service0_price": "8,000",
        "service1_name_en": "Dress",
        "service1_price": "25000",
        **OPEN_WEEK,
    }
    form.update(overrides)
    return form


async def post_form(client, path: str, form: dict):
    token = await csrf(client, "/dashboard/new")
    return await client.post(path, data={"_csrf_token": token, **form}, headers=HTML, follow_redirects=False)


# --- the public API -------------------------------------------------------------------------------


async def api_key(db, email: str = "partner@example.rw", tier: str = "free", role: str = "owner") -> tuple[str, int]:
    """A new account `email` (made if missing) with an API key of `tier`: (the key, the user's id)."""
    import secrets

    from servicerw.api.services import hash_key

    user_id = await db.fetchval("SELECT id FROM users WHERE email = $1", email) or await db.fetchval(
        "INSERT INTO users (email, full_name, role) VALUES ($1, 'API Partner', $2) RETURNING id", email, role
    )
    secret = "srw_" + secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, tier) VALUES ($1, 'test', $2, $3, $4)",
        user_id,
        secret[:12],
        hash_key(secret),
        tier,
    )
    return secret, user_id


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}
