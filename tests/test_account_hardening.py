"""Accounts, sessions, limits and configuration as an attacker probed them (issue 13): links in emails only from
PUBLIC_URL, production refusing unsafe settings, single-use reset links that end every session, log-in limits
per account and address, no account enumeration, cookie deletion, HEAD, and email addresses checked by
email-validator. The concurrent and multi-process limits are in test_login_limits.py (a real server)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient

from servicerw.accounts.limits import ACCOUNT, PAIR, AccountLimits
from servicerw.core.addresses import valid_email
from servicerw.core.auth import base_url
from servicerw.core.stores import FailOpenStore, LocalCounters, build_store
from servicerw.core.throttle import Limiter
from servicerw.core.web import language_cookie
from servicerw.notifications.providers import LogProvider, Outgoing, redact_tokens
from servicerw.settings import (
    ConfigurationError,
    EmailSettings,
    ServerSettings,
    Settings,
    ValkeySettings,
    check_production,
    get_settings,
)
from tests.factories import make_business
from tests.helpers import HTML, STRONG, csrf, free_port, listing_form, log_in, owner, post_form, sign_up, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")

EVIL = 'a"><svg/onload=alert(1)>@x.example'


async def outbox(db, kind: str) -> list:
    return await db.fetch("SELECT * FROM email_outbox WHERE kind = $1 ORDER BY id", kind)


async def reset_links(db, count: int) -> list[str]:
    """The tokens of the reset emails, once `count` are queued (the request is looked up after the answer)."""
    await wait_for(lambda: _count(db, "reset_password", count), message=f"{count} reset emails queued")
    return [re.search(r"token=(\S+)", m["body_text"]).group(1) for m in await outbox(db, "reset_password")]


async def _count(db, kind: str, count: int) -> bool:
    return await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = $1", kind) >= count


async def ask_reset(client, email="aline@example.rw", headers=None):
    token = await csrf(client, "/account/reset")
    return await client.post(
        "/account/reset", data={"_csrf_token": token, "email": email}, headers={**HTML, **(headers or {})}
    )


async def confirm_reset(client, token: str, password: str):
    csrf_token = await csrf(client, "/account/reset")
    return await client.post(
        "/account/reset/confirm",
        data={"_csrf_token": csrf_token, "token": token, "password": password},
        headers=HTML,
        follow_redirects=False,
    )


# --- links in emails --------------------------------------------------------------------------------


async def test_links_in_emails_never_come_from_the_host_header(client, db):
    """The finding: `POST /account/reset` with `Host: evil.example` emailed a link to evil.example."""
    base = get_settings().server.link_base
    assert base == f"http://{get_settings().server.host}:{get_settings().server.port}"  # no PUBLIC_URL in tests
    await sign_up(client)
    client.cookies.clear()
    response = await ask_reset(client, headers={"host": "evil.example"})
    assert response.status_code == 200
    await reset_links(db, 1)
    for mail in await db.fetch("SELECT body_text, body_html FROM email_outbox"):
        assert "evil.example" not in mail["body_text"] + mail["body_html"]
        assert f"{base}/account/" in mail["body_text"]


def test_base_url_is_public_url_or_the_configured_address():
    assert base_url(ServerSettings(public_url="https://servicerw.rw")) == "https://servicerw.rw"
    assert base_url(ServerSettings(public_url="", host="0.0.0.0", port=9000)) == "http://localhost:9000"
    assert base_url(ServerSettings(public_url="", host="127.0.0.1", port=8000)) == "http://127.0.0.1:8000"


# --- production refuses unsafe settings ---------------------------------------------------------------


def production(**server) -> Settings:
    values = {
        "environment": "production",
        "public_url": "https://servicerw.example.rw",
        "allowed_hosts": ("servicerw.example.rw",),
    }
    return Settings(
        server=ServerSettings(**{**values, **server}),
        email=EmailSettings(providers=("smtp",), smtp_url="smtp://127.0.0.1:25"),
    )


def test_production_refuses_to_start_without_public_url_with_any_host_or_only_the_log_provider():
    from servicerw.app import create_app

    check_production(production())  # a complete configuration passes
    check_production(Settings(server=ServerSettings(environment="development", public_url="", allowed_hosts=("*",))))
    cases = {
        "PUBLIC_URL is not set": production(public_url=""),
        "PUBLIC_URL must be like https://servicerw.rw": production(public_url="servicerw.rw"),
        "ALLOWED_HOSTS is *": production(allowed_hosts=("*",)),
    }
    log_only = production()
    log_only = Settings(server=log_only.server, email=EmailSettings(providers=("log",)))
    cases["no email provider"] = log_only
    for message, settings in cases.items():
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            create_app(settings)


def test_servicerw_serve_and_worker_refuse_production_without_the_settings_with_a_clear_message(tmp_path):
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    env = {
        "PATH": "/usr/bin:/bin",
        "SERVICERW_ENV": "production",
        "ALLOWED_HOSTS": "*",
        "EMAIL_PROVIDERS": "log",
        "DATA_DIR": str(tmp_path),
    }
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        done = subprocess.run([servicerw, *command], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "refusing to start in production" in done.stderr and "Traceback" not in done.stderr
        for what in ("PUBLIC_URL is not set", "ALLOWED_HOSTS is *", "no email provider"):
            assert what in done.stderr


async def test_the_log_provider_never_writes_a_token():
    assert redact_tokens("open http://x/account/reset/confirm?token=abc-DEF_1 now") == (
        "open http://x/account/reset/confirm?token=[redacted] now"
    )
    outgoing = Outgoing(
        to="aline@example.rw",
        subject="Reset your password",
        text="Open http://127.0.0.1:8000/account/reset/confirm?token=s3cr3t-t0ken to choose one.",
        html="",
        idempotency_key="k1",
        kind="reset_password",
    )
    with structlog.testing.capture_logs() as logs:
        await LogProvider().send(outgoing)
    assert logs and "s3cr3t-t0ken" not in repr(logs) and "[redacted]" in repr(logs)


# --- reset links and sessions -----------------------------------------------------------------------


async def test_an_older_reset_link_stops_working_once_a_newer_one_is_used(client, db):
    await sign_up(client)
    client.cookies.clear()
    await ask_reset(client)
    await ask_reset(client)
    older, newer = await reset_links(db, 2)
    assert (await confirm_reset(client, newer, "new sentence password")).status_code == 303
    client.cookies.clear()
    again = await confirm_reset(client, older, "attacker sentence here")
    assert again.status_code == 422 and "expired or was already used" in again.text
    client.cookies.clear()
    assert (await log_in(client, password="new sentence password")).status_code == 303


async def test_asking_again_invalidates_the_earlier_reset_link(client, db):
    await sign_up(client)
    client.cookies.clear()
    await ask_reset(client)
    await ask_reset(client)
    older, newer = await reset_links(db, 2)
    assert (await confirm_reset(client, older, "new sentence password")).status_code == 422
    assert (await confirm_reset(client, newer, "new sentence password")).status_code == 303


async def test_a_password_reset_ends_every_session_of_the_account(client, db):
    await sign_up(client)
    before = client.cookies.get("session")
    assert (await client.get("/account", headers=HTML)).status_code == 200
    client.cookies.clear()
    await ask_reset(client)
    (token,) = await reset_links(db, 1)
    assert (await confirm_reset(client, token, "new sentence password")).status_code == 303
    assert (await client.get("/account", headers=HTML)).status_code == 200  # the resetting browser is logged in
    client.cookies.clear()
    client.cookies.set("session", before)  # the session opened before the reset
    stale = await client.get("/account", headers=HTML, follow_redirects=False)
    assert stale.status_code == 303 and "/account/login" in stale.headers["location"]


async def test_logging_out_deletes_the_cookie_at_once(client, db):
    await sign_up(client)
    page = (await client.get("/account", headers=HTML)).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    response = await client.post("/account/logout", data={"_csrf_token": token}, follow_redirects=False)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("session="))
    assert "Max-Age=0" in cookie and "Max-Age=28800" not in cookie and not cookie.startswith("session=null")


# --- no account enumeration ---------------------------------------------------------------------------


async def test_sign_up_with_a_taken_address_says_check_your_email_and_tells_the_owner(client, db):
    await sign_up(client)
    client.cookies.clear()
    again = await sign_up(client, password="another good sentence")
    assert again.status_code == 200 and "Check your email" in again.text
    assert "already" not in again.text.lower() and "session=" not in again.headers.get("set-cookie", "")
    assert await db.fetchval("SELECT count(*) FROM users") == 1
    (mail,) = await outbox(db, "signup_existing")
    assert mail["to_address"] == "aline@example.rw" and "/account/reset" in mail["body_text"]
    client.cookies.clear()
    assert (await log_in(client)).status_code == 303  # the owner's password did not change


async def test_reset_answers_the_same_for_a_known_and_an_unknown_address(client, db):
    await sign_up(client)
    client.cookies.clear()
    known, unknown = await ask_reset(client), await ask_reset(client, email="nobody@example.rw")
    strip = lambda text: re.sub(r'value="[^"]+"', "", text)  # noqa: E731 - the CSRF token differs
    assert known.status_code == unknown.status_code == 200 and strip(known.text) == strip(unknown.text)
    assert "If an account uses that address" in known.text
    await reset_links(db, 1)


# --- log-in limits: per account and address, and a global one a known browser skips ------------------


@pytest.fixture
async def limits():
    store = build_store(get_settings().valkey)
    yield AccountLimits(store.with_namespace("test_limits"), secret_key="k" * 32)
    await store.close()


async def test_failing_from_one_address_does_not_lock_the_owner_out_from_another(limits):
    for _ in range(PAIR[0]):
        assert (await limits.login("aline@example.rw", "10.0.0.1", None)).allowed
    locked = await limits.login("aline@example.rw", "10.0.0.1", None)
    assert not locked.allowed and 0 < locked.retry_after <= PAIR[1]
    assert (await limits.login("aline@example.rw", "10.0.0.2", None)).allowed  # the owner, elsewhere
    assert (await limits.login("other@example.rw", "10.0.0.1", None)).allowed  # other accounts


async def test_the_global_account_limit_spares_a_browser_that_logged_in_before(limits):
    cookie = limits.device_cookie("aline@example.rw", None)
    for n in range(ACCOUNT[0]):  # guessing from many addresses, each below its own limit
        assert (await limits.login("aline@example.rw", f"10.1.{n // 250}.{n % 250}", None)).allowed
    assert not (await limits.login("aline@example.rw", "10.9.9.9", None)).allowed
    assert (await limits.login("aline@example.rw", "10.9.9.9", cookie.value)).allowed  # the owner's browser
    forged = limits.device_cookie("mallory@example.rw", None).value
    assert not (await limits.login("aline@example.rw", "10.9.9.8", forged)).allowed
    assert not limits.known_device("aline@example.rw", "0" * 32)


async def test_the_right_password_after_failures_logs_in_and_clears_the_count(client, db, limits):
    await db.execute(
        "INSERT INTO users (email, full_name, password_hash, role) VALUES ('aline@example.rw', 'Aline', $1, 'owner')",
        PasswordHasher().hash(STRONG),
    )
    for _ in range(PAIR[0] - 1):  # (10 POSTs a minute per address: the 10th is the right password)
        assert (await log_in(client, password="wrong password")).status_code == 422
    assert (await log_in(client)).status_code == 303
    assert client.cookies.get("known_device"), "a log-in marks the browser as known for the account"
    for _ in range(PAIR[0] - 1):
        await limits.login("aline@example.rw", "10.0.0.1", None)
    await limits.logged_in("aline@example.rw", "10.0.0.1")
    for _ in range(PAIR[0]):
        assert (await limits.login("aline@example.rw", "10.0.0.1", None)).allowed


async def test_a_locked_log_in_shows_the_form_with_a_message_and_retry_after(client, db):
    store = build_store(get_settings().valkey)
    app_limits = AccountLimits(store.with_namespace("account_limits"), secret_key="k" * 32)  # the app's counters
    for _ in range(PAIR[0]):
        await app_limits.login("aline@example.rw", "testclient", None)
    await store.close()
    response = await log_in(client, password="whatever it is")
    assert response.status_code == 429 and "Too many attempts to log in to this account" in response.text
    assert int(response.headers["retry-after"]) > 0


async def test_counters_are_atomic_in_valkey_and_divided_by_the_processes_without_it():
    dead = FailOpenStore.from_settings(ValkeySettings(url=f"redis://127.0.0.1:{free_port()}/0"))
    limiter = Limiter(dead, limit=10, window=60, processes=2)
    verdicts = [await limiter.take("k") for _ in range(8)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3  # 10 // 2 in this process
    await dead.close()
    live = build_store(get_settings().valkey).with_namespace("test_atomic")
    counts = [await live.incr("burst", 60) for _ in range(3)]
    assert [c.value for c in counts] == [1, 2, 3] and all(c.shared for c in counts)
    assert 0 < counts[-1].expires_in <= 60
    await live.close()
    local = LocalCounters()
    assert [local.incr("k", 10, now=0).value, local.incr("k", 10, now=5).value] == [1, 2]
    assert local.incr("k", 10, now=11).value == 1  # a new window


# --- cookies and HEAD ----------------------------------------------------------------------------------


def test_the_language_cookie_is_secure_in_production():
    assert "Secure" in language_cookie("fr", secure=True).to_header()
    assert "Secure" not in language_cookie("fr").to_header()


async def test_a_production_app_sends_secure_language_and_device_cookies(migrated_db):
    from servicerw.app import create_app

    settings = production(allowed_hosts=("testserver.local",))
    app = create_app(settings)
    client = AsyncTestClient(app=app, base_url="http://testserver.local")  # no lifespan: the run's pool stays
    response = await client.get("/lang/fr?next=/", follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=fr") and "Secure" in cookie and "HttpOnly" in cookie
    assert app.state.account_limits.device_cookie("a@example.rw", None).secure
    assert app.state.account_limits.device_cookie_name == "__Host-known_device"


async def test_head_is_answered_like_get_without_a_body(client, db):
    for path in ("/", "/account/login", "/search?q=plumber"):
        get = await client.get(path, headers=HTML)
        head = await client.head(path, headers=HTML)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
    assert (await client.head("/no/such/page", headers=HTML)).status_code == 404
    assert (await client.head("/account/logout", headers=HTML)).status_code == 405  # POST only


# --- email addresses ------------------------------------------------------------------------------------


def test_email_addresses_are_checked_by_email_validator():
    assert valid_email(" Aline@Example.RW ") == "aline@example.rw"
    for bad in (
        EVIL,
        "a@b",
        "x@localhost",
        "a b@c.rw",
        "a@b.rw\x00",
        '"q"@x.rw',
        "Aline <a@b.rw>",
        "a" * 250 + "@x.rw",
    ):
        assert valid_email(bad) is None, bad


async def test_an_invalid_address_is_refused_on_sign_up_reset_inquiries_and_listings(client, db):
    response = await sign_up(client, email=EVIL)
    assert response.status_code == 422 and "valid email" in response.text
    response = await ask_reset(client, email=EVIL)
    assert response.status_code == 422 and "valid email" in response.text
    assert await db.fetchval("SELECT count(*) FROM users") == 0

    shop = await make_business(db, slug="amazi-plumbing")
    page = (await client.get(f"/b/{shop['slug']}", headers=HTML)).text
    data = {
        "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1),
        "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
        "name": "Claudine Mukamana",
        "phone": "",
        "email": EVIL,
        "preferred_contact": "email",
        "message": "My kitchen sink leaks. Can you come on Saturday morning?",
        "website": "",
    }
    response = await client.post(f"/b/{shop['slug']}/inquiries", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 422 and "email address like" in response.text
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0

    await owner(client, "owner@example.rw")
    response = await post_form(client, "/dashboard/new", await listing_form(db, email=EVIL))
    assert response.status_code == 422 and "valid email" in response.text
    assert await db.fetchval("SELECT count(*) FROM businesses WHERE owner_id IS NOT NULL") == 0
