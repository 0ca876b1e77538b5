"""/admin/users: operators find accounts by any part of their email, phone or name, see role, status and the
listings owned; deactivating an account ends its open sessions at once (refused on the very next request, and
deleted server-side), reactivating lets it log in again; an operator cannot deactivate themselves."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from valkey.asyncio import Valkey

from servicerw.accounts.admin import search_query
from servicerw.settings import get_settings
from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in

HASH = PasswordHasher().hash(STRONG)

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the log-in form's rate limits start from zero


async def make_user(db, email: str, name: str, phone: str | None = None, role: str = "customer") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, phone, password_hash, role, preferred_language, is_active)
           VALUES ($1, $2, $3, $4, $5, 'en', true) RETURNING id""",
        email,
        name,
        phone,
        HASH,
        role,
    )


@pytest.fixture
async def people(db):
    ids = {
        "admin": await make_user(db, "olivier@servicerw.rw", "Olivier Operator", role="admin"),
        "aline": await make_user(db, "aline.uwase@example.rw", "Aline Uwase", "+250 788 123 456", "owner"),
        "eric": await make_user(db, "eric@mail.example", "Éric MUGISHA", "0722000111"),
        "jean": await make_user(db, "jean_h@example.rw", "Jean Habimana", None),
    }
    await make_business(db, business_name="Aline Tailors", slug="aline-tailors", owner_id=ids["aline"])
    return ids


def token_of(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def as_user(client, email: str) -> str:
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303
    return token_of((await client.get("/account", headers=HTML)).text)


async def found(client, q: str) -> str:
    response = await client.get("/admin/users", params={"q": q}, headers=HTML)
    assert response.status_code == 200, (q, response.status_code)
    return response.text


async def test_operators_find_users_by_part_of_email_phone_or_name(client, db, people):
    await as_user(client, "olivier@servicerw.rw")
    everyone = await found(client, "")
    assert all(name in everyone for name in ("Aline Uwase", "Jean Habimana", "Olivier Operator"))
    by_email = await found(client, "UWASE@exam")
    assert "aline.uwase@example.rw" in by_email and "Jean Habimana" not in by_email
    by_name = await found(client, "habim")
    assert "Jean Habimana" in by_name and "Aline Uwase" not in by_name
    by_phone = await found(client, "788123")  # stored as "+250 788 123 456"
    assert "Aline Uwase" in by_phone and "Eric" not in by_phone
    assert "Aline Uwase" in await found(client, "0788 123 456")  # the local way of writing it
    assert "MUGISHA" in await found(client, "0722000")
    assert "MUGISHA" in await found(client, "mugi")
    underscore = await found(client, "n_h")  # LIKE wildcards are taken literally
    assert "Jean Habimana" in underscore and "Aline Uwase" not in underscore
    assert "No user found." in await found(client, "zzzz")
    short = await client.get("/admin/users?q=ab", headers=HTML)
    assert short.status_code == 422 and "Type 3 to 100 characters" in short.text
    nul = await client.get("/admin/users?q=ali%00ne", headers=HTML)
    assert nul.status_code == 422 and "control characters" in nul.text


async def test_the_search_pages_through_results(client, db, people):
    for i in range(25):
        await make_user(db, f"bulk{i:02d}@example.rw", f"Bulk Person {i:02d}")
    await as_user(client, "olivier@servicerw.rw")
    first = await found(client, "bulk")
    assert "Bulk Person 24" in first and "Bulk Person 04" not in first and "page=2" in first
    second = (await client.get("/admin/users?q=bulk&page=2", headers=HTML)).text
    assert "Bulk Person 04" in second and "Bulk Person 00" in second and "Bulk Person 24" not in second


async def test_the_search_is_answered_by_indexes(db, people):
    """On a users table of realistic size, each clause of the search (email, name, phone digits) is
    answered by its trigram index, not by reading the whole table."""
    await db.execute(
        """INSERT INTO users (email, full_name, phone, password_hash)
           SELECT 'person' || g || '@bulk.example', 'Person Number ' || g, '+250 78' || lpad(g::text, 7, '0'), ''
           FROM generate_series(1, 30000) g"""
    )
    await db.execute("VACUUM ANALYZE users")  # as autovacuum would: moves GIN pending entries into the index
    for q in ("0788 123", "uwase@exam", "habimana"):
        sql, args = search_query(q, 1)
        plan = "\n".join(r[0] for r in await db.fetch(f"EXPLAIN {sql}", *args))
        assert "idx_users_email_trgm" in plan and "idx_users_name_trgm" in plan, plan
        assert ("idx_users_phone_digits_trgm" in plan) == (q == "0788 123"), plan
        assert "Seq Scan on users" not in plan, plan


async def test_a_user_page_shows_role_status_and_businesses(client, db, people):
    await as_user(client, "olivier@servicerw.rw")
    page = (await client.get(f"/admin/users/{people['aline']}", headers=HTML)).text
    assert "aline.uwase@example.rw" in page and "owner" in page and "Account active" in page
    assert 'href="/b/aline-tailors"' in page and "Deactivate the account" in page


async def test_deactivating_ends_an_open_session_on_its_very_next_request(client, db, people):
    await as_user(client, "aline.uwase@example.rw")
    aline_session = client.cookies.get("session")
    assert aline_session and (await client.get("/account", headers=HTML)).status_code == 200
    token = await as_user(client, "olivier@servicerw.rw")
    admin_session = client.cookies.get("session")
    valkey = Valkey.from_url(get_settings().valkey.url)
    try:
        assert await valkey.exists(f"SERVICERW_sessions:{aline_session}")
        response = await client.post(
            f"/admin/users/{people['aline']}/deactivate",
            data={"_csrf_token": token, "note": "fraudulent listings"},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "its sessions have ended" in (await client.get(response.headers["location"], headers=HTML)).text
        assert not await valkey.exists(f"SERVICERW_sessions:{aline_session}")  # deleted server-side
        assert await valkey.exists(f"SERVICERW_sessions:{admin_session}")  # the operator's own is untouched
    finally:
        await valkey.aclose()
    assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", people["aline"]) is False
    entry = await db.fetchrow("SELECT * FROM audit_log")
    assert (entry["action"], entry["target_type"], entry["target_id"]) == ("user.deactivate", "user", people["aline"])
    assert entry["actor_id"] == people["admin"] and entry["note"] == "fraudulent listings"
    client.cookies.clear()
    client.cookies.set("session", aline_session)
    refused = await client.get("/account", headers=HTML, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/account/login")
    client.cookies.clear()
    assert (await log_in(client, "aline.uwase@example.rw")).status_code != 303  # cannot log in again


async def test_the_next_request_is_refused_even_when_the_session_was_not_deleted(client, db, people):
    """`core/auth.current_user` checks the account on every request: a session missed by the deletion (the
    store was unreachable, say) ends anyway."""
    await as_user(client, "eric@mail.example")
    session = client.cookies.get("session")
    await db.execute("UPDATE users SET is_active = false WHERE id = $1", people["eric"])
    client.cookies.clear()
    client.cookies.set("session", session)
    refused = await client.get("/account", headers=HTML, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/account/login")


async def test_reactivating_lets_the_user_log_in_again(client, db, people):
    await db.execute("UPDATE users SET is_active = false WHERE id = $1", people["jean"])
    token = await as_user(client, "olivier@servicerw.rw")
    page = (await client.get(f"/admin/users/{people['jean']}", headers=HTML)).text
    assert "Account deactivated" in page and "Reactivate the account" in page
    response = await client.post(
        f"/admin/users/{people['jean']}/reactivate", data={"_csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert "The account is active again." in (await client.get(response.headers["location"], headers=HTML)).text
    assert await db.fetchval("SELECT action FROM audit_log") == "user.reactivate"
    client.cookies.clear()
    assert (await log_in(client, "jean_h@example.rw")).status_code == 303


async def test_an_operator_cannot_deactivate_themselves(client, db, people):
    token = await as_user(client, "olivier@servicerw.rw")
    page = (await client.get(f"/admin/users/{people['admin']}", headers=HTML)).text
    assert "This is your own account." in page and "Deactivate the account" not in page
    response = await client.post(
        f"/admin/users/{people['admin']}/deactivate", data={"_csrf_token": token}, headers=HTML
    )
    assert response.status_code == 409 and "You cannot deactivate your own account." in response.text
    assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", people["admin"]) is True
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0
    assert (await client.get("/admin/users", headers=HTML)).status_code == 200  # still logged in


async def test_only_operators_reach_the_users_pages(client, db, people):
    assert (await client.get("/admin/users", headers=HTML, follow_redirects=False)).status_code == 303
    token = await as_user(client, "aline.uwase@example.rw")
    assert (await client.get("/admin/users", headers=HTML)).status_code == 404
    assert (await client.get(f"/admin/users/{people['jean']}", headers=HTML)).status_code == 404
    response = await client.post(f"/admin/users/{people['jean']}/deactivate", data={"_csrf_token": token})
    assert response.status_code == 404
    assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", people["jean"]) is True


async def test_bad_ids_get_a_404_never_a_500(client, db, people):
    token = await as_user(client, "olivier@servicerw.rw")
    for user_id in ("999999", str(2**31), str(2**63), "0"):
        assert (await client.get(f"/admin/users/{user_id}", headers=HTML)).status_code == 404, user_id
        for action in ("deactivate", "reactivate"):
            response = await client.post(f"/admin/users/{user_id}/{action}", data={"_csrf_token": token})
            assert response.status_code == 404, (user_id, action)
    nul = await client.post(
        f"/admin/users/{people['jean']}/deactivate", data={"_csrf_token": token, "note": "x\x00y"}, headers=HTML
    )
    assert nul.status_code == 422 and "without control characters" in nul.text
    assert await db.fetchval("SELECT is_active FROM users WHERE id = $1", people["jean"]) is True
    assert (await client.get("/admin/users?page=0", headers=HTML)).status_code == 400
