"""Accounts and sessions: the security checklist items 1-6 and 10 (../shared/SECURITY.md)."""

import re
from types import SimpleNamespace

import pytest
from valkey.asyncio import Valkey

from servicerw.accounts.services import password_problem
from servicerw.core.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, current_user_id, session_config
from servicerw.settings import ServerSettings, get_settings
from tests.helpers import HTML, STRONG, csrf, log_in, sign_up

pytestmark = pytest.mark.usefixtures("fresh_limits")  # rate-limit counters and sessions start from zero


def session_cookie(response) -> str | None:
    match = re.search(r"(?:^|, )session=([^;]+)", response.headers.get("set-cookie", ""))
    return match.group(1) if match else None


async def test_sign_up_logs_in_and_queues_a_verification_email_that_works(client, db):
    response = await sign_up(client)
    assert response.status_code == 303 and response.headers["location"].startswith("/account")
    page = (await client.get("/account", headers=HTML)).text
    assert "Aline Uwase" in page and "not confirmed yet" in page
    user = await db.fetchrow("SELECT * FROM users WHERE email = 'aline@example.rw'")
    assert user["password_hash"].startswith("$argon2id$") and STRONG not in user["password_hash"]
    assert user["role"] == "owner"
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE to_address = 'aline@example.rw'")
    # Queued (the app's own worker may already be sending or have sent it: test_email follows delivery).
    assert mail["kind"] == "verify_email" and mail["status"] in ("pending", "sending", "sent")
    token = re.search(r"/account/verify\?token=(\S+)", mail["body_text"]).group(1)
    assert await db.fetchval("SELECT count(*) FROM account_tokens WHERE token_hash = $1", token) == 0  # hashed
    form = (await client.get(f"/account/verify?token={token}", headers=HTML)).text
    assert await db.fetchval("SELECT email_verified_at FROM users WHERE id = $1", user["id"]) is None  # GET: no change
    csrf_token = re.search(r'name="_csrf_token" value="([^"]+)"', form).group(1)
    done = await client.post("/account/verify", data={"_csrf_token": csrf_token, "token": token}, headers=HTML)
    assert done.status_code == 200 and "is confirmed" in done.text
    assert await db.fetchval("SELECT email_verified_at FROM users WHERE id = $1", user["id"]) is not None
    again = await client.post("/account/verify", data={"_csrf_token": csrf_token, "token": token}, headers=HTML)
    assert again.status_code == 400  # single use


async def test_sign_up_validates_each_field_with_clear_messages(client, db):
    token = await csrf(client)
    response = await client.post(
        "/account/signup",
        data={
            "_csrf_token": token,
            "full_name": "A",
            "email": "not-an-email",
            "phone": "call me",
            "password": "password1",
            "role": "admin",
        },
        headers=HTML,
    )
    assert response.status_code == 422
    for message in ("Enter your name", "valid email", "phone number like", "too common", "account type"):
        assert message in response.text
    assert await db.fetchval("SELECT count(*) FROM users") == 0
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0
    await sign_up(client)
    client.cookies.clear()
    duplicate = await sign_up(client)  # the taken address: see test_hardening for what it answers
    assert duplicate.status_code == 200 and "already exists" not in duplicate.text


def test_password_rules():
    assert password_problem("short") is not None
    assert password_problem("x" * 129) is not None
    assert password_problem("x" * 128 + "") is not None  # one repeated character
    assert password_problem("password") is not None and password_problem("Kigali123") is not None
    assert password_problem("aline@example.rw", "aline@example.rw") is not None
    assert password_problem("umugati mwiza") is None  # no composition rules
    assert password_problem("ab1" * 42 + "ab") is None  # 128 characters is fine


async def test_session_id_changes_at_login_and_a_planted_id_is_useless(client, db):
    await sign_up(client)
    client.cookies.clear()
    client.cookies.set("session", "a" * 64)  # planted by an attacker
    response = await log_in(client)
    assert response.status_code == 303
    new_id = session_cookie(response)
    assert new_id and new_id != "a" * 64
    client.cookies.clear()
    client.cookies.set("session", "a" * 64)
    assert (await client.get("/account", headers=HTML, follow_redirects=False)).status_code == 303  # not logged in


async def test_session_cookie_flags(client, db):
    response = await sign_up(client)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    production = session_config(ServerSettings(environment="production"))
    assert production.key == "__Host-session" and production.secure and production.httponly
    assert production.samesite == "lax" and production.domain is None and production.path == "/"


async def test_logout_ends_the_session_server_side(client, db):
    await sign_up(client)
    old = client.cookies.get("session")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get("/account", headers=HTML)).text)
    response = await client.post("/account/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.clear()
    client.cookies.set("session", old)  # replay the old cookie
    assert (await client.get("/account", headers=HTML, follow_redirects=False)).status_code == 303


async def test_idle_and_absolute_timeouts(client, db):
    await sign_up(client)
    sid = client.cookies.get("session")
    valkey = Valkey.from_url(get_settings().valkey.url)
    keys = [k async for k in valkey.scan_iter(match=f"*{sid}*")]
    ttl = await valkey.ttl(keys[0])
    await valkey.aclose()
    assert IDLE_TIMEOUT - 60 < ttl <= IDLE_TIMEOUT  # idle: the session expires unless used
    request = SimpleNamespace(scope={"session": {"uid": 7, "auth_at": 1_000_000}}, clear_session=lambda: None)
    assert current_user_id(request, now=1_000_000 + ABSOLUTE_TIMEOUT - 1) == 7
    assert current_user_id(request, now=1_000_000 + ABSOLUTE_TIMEOUT + 1) is None  # absolute limit


async def test_anonymous_visitors_get_no_session(client, db):
    response = await client.get("/", headers=HTML)
    assert "session=" not in response.headers.get("set-cookie", "")
    valkey = Valkey.from_url(get_settings().valkey.url)
    assert [k async for k in valkey.scan_iter(match="*session*")] == []
    await valkey.aclose()


async def test_wrong_password_and_unknown_email_get_the_same_answer(client, db):
    await sign_up(client)
    client.cookies.clear()
    wrong = await log_in(client, password="not the right one")
    unknown = await log_in(client, email="nobody@example.rw")
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text


async def test_login_is_throttled_per_address_and_a_forged_forwarded_for_does_not_reset_it(client, db):
    statuses = []
    for attempt in range(11):
        response = await log_in(
            client,
            email=f"x{attempt}@example.rw",
            password="wrong password",
            headers={"x-forwarded-for": f"10.0.0.{attempt}"},
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    assert "retry-after" in {k.lower() for k in response.headers} or "ratelimit-reset" in response.headers


async def test_password_reset_by_email(client, db):
    await sign_up(client)
    client.cookies.clear()
    token = await csrf(client, "/account/reset")
    for email in ("aline@example.rw", "nobody@example.rw"):
        response = await client.post("/account/reset", data={"_csrf_token": token, "email": email}, headers=HTML)
        assert response.status_code == 200 and "If an account uses that address" in response.text
    mails = await db.fetch("SELECT * FROM email_outbox WHERE kind = 'reset_password'")
    assert [m["to_address"] for m in mails] == ["aline@example.rw"]
    reset = re.search(r"token=(\S+)", mails[0]["body_text"]).group(1)
    weak = await client.post(
        "/account/reset/confirm", data={"_csrf_token": token, "token": reset, "password": "12345678"}, headers=HTML
    )
    assert weak.status_code == 422 and "too common" in weak.text, weak.text[-500:]
    done = await client.post(
        "/account/reset/confirm",
        data={"_csrf_token": token, "token": reset, "password": "new sentence password"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.cookies.clear()
    assert (await log_in(client, password="new sentence password")).status_code == 303
    token = await csrf(client, "/account/reset")
    reused = await client.post(
        "/account/reset/confirm",
        data={"_csrf_token": token, "token": reset, "password": "another good one"},
        headers=HTML,
    )
    assert reused.status_code == 422 and "expired or was already used" in reused.text


async def test_csrf_is_required_on_every_unsafe_request(client, db):
    await client.get("/account/signup", headers=HTML)  # has the CSRF cookie now
    for path in ("/account/signup", "/account/login", "/account/logout", "/account/reset", "/account/verify"):
        response = await client.post(path, data={"email": "a@b.rw"}, headers=HTML)
        assert response.status_code == 403, path
    htmx = await client.post("/account/logout", headers={**HTML, "HX-Request": "true", "x-csrftoken": "forged"})
    assert htmx.status_code == 403
    non_ascii = await client.post("/account/logout", headers={**HTML, "x-csrftoken": ("é" * 64).encode()})
    assert non_ascii.status_code == 403  # not a 500


async def test_no_get_changes_state(client, db):
    await sign_up(client)
    count = await db.fetchval("SELECT count(*) FROM users")
    for path in ("/account/logout", "/account/verify?token=abc", "/account/reset/confirm?token=abc"):
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code in (200, 405), path
    assert await db.fetchval("SELECT count(*) FROM users") == count
    assert (await client.get("/account", headers=HTML)).status_code == 200  # still logged in


async def test_a_deactivated_account_loses_access_at_once(client, db):
    await sign_up(client)
    await db.execute("UPDATE users SET is_active = false WHERE email = 'aline@example.rw'")
    for path in ("/account", "/dashboard", "/dashboard/new"):
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and "/account/login" in response.headers["location"], path
    assert (await log_in(client)).status_code == 422  # and cannot log in again
