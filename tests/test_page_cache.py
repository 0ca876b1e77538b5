"""The anonymous visitors' page cache (issue 15, part 3): the real app, real Valkey, real PostgreSQL.

A hit is told by the `X-Cache` header and the hits counter, never by timing."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY

from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")  # inquiry and log-in limits start from zero

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
HEADER_TOKEN = re.compile(r'"x-csrftoken": "([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')


def hits() -> float:
    return REGISTRY.get_sample_value("servicerw_page_cache_total", {"result": "hit"}) or 0.0


async def get(client, url: str, **headers):
    client.cookies.clear()  # a new anonymous visitor
    return await client.get(url, headers={**HTML, **headers})


async def test_a_second_anonymous_visitor_is_served_from_the_cache_with_a_token_and_key_of_their_own(client, db):
    shop = await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    first = await get(client, "/b/amazi-plumbing")
    assert first.status_code == 200 and first.headers["x-cache"] == "miss"
    first_token = first.cookies["csrftoken"]
    before = hits()
    second = await get(client, "/b/amazi-plumbing")
    assert second.status_code == 200 and second.headers["x-cache"].startswith("hit")
    assert hits() == before + 1
    assert second.headers["content-encoding"] == "gzip"
    assert "Amazi Plumbing" in second.text
    # Each visitor's page carries the visitor's own CSRF cookie, in the form and in htmx's headers, and a new key.
    second_token = second.cookies["csrftoken"]
    assert second_token != first_token
    assert TOKEN.findall(second.text) == [second_token] and HEADER_TOKEN.findall(second.text) == [second_token]
    assert first_token not in second.text
    assert KEY.search(first.text).group(1) != KEY.search(second.text).group(1)
    # The cached page's form works: the second visitor sends a message with it (the cookie is still set).
    form = {
        "_csrf_token": second_token,
        "key": KEY.search(second.text).group(1),
        "name": "Claudine Mukamana",
        "phone": "0788 555 123",
        "email": "",
        "preferred_contact": "phone",
        "message": "My kitchen sink leaks. Can you come on Saturday morning?",
        "website": "",
    }
    sent = await client.post("/b/amazi-plumbing/inquiries", data=form, headers=HTML, follow_redirects=False)
    assert sent.status_code == 303
    # Another visitor's token is refused with this visitor's cookie.
    form["_csrf_token"], form["key"] = first_token, KEY.search(first.text).group(1)
    refused = await client.post("/b/amazi-plumbing/inquiries", data=form, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries WHERE business_id = $1", shop["id"]) == 1
    # A visitor who already has a CSRF cookie (and a language cookie) is served from the cache, without Set-Cookie.
    client.cookies.clear()
    client.cookies.set("csrftoken", second_token)
    client.cookies.set("lang", "en")
    third = await client.get("/b/amazi-plumbing", headers=HTML)
    assert third.headers["x-cache"].startswith("hit") and "set-cookie" not in third.headers
    assert TOKEN.findall(third.text) == [second_token]
    cache_control = third.headers["cache-control"]
    # Browsers ask again each time (a suspension shows at once), a CDN may keep it.
    assert cache_control.startswith("public, max-age=0, must-revalidate") and "s-maxage=60" in cache_control
    assert "Accept-Encoding" in third.headers["vary"] and "Cookie" in third.headers["vary"]


async def test_an_operators_write_changes_the_cached_page_at_once_for_anonymous_visitors(client, db):
    from argon2 import PasswordHasher

    await make_business(db, business_name="Urumuri Plumbing", slug="urumuri-plumbing")
    await get(client, "/b/urumuri-plumbing")
    assert (await get(client, "/b/urumuri-plumbing")).headers["x-cache"].startswith("hit")
    assert "Urumuri Plumbing" in (await get(client, "/search?q=urumuri")).text
    await db.execute(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ('ops@example.rw', 'Ops', $1, 'admin', 'en', true)""",
        PasswordHasher().hash(STRONG),
    )
    client.cookies.clear()
    assert (await log_in(client, "ops@example.rw")).status_code == 303
    token = TOKEN.search((await client.get("/dashboard/new", headers=HTML)).text).group(1)
    shop_id = await db.fetchval("SELECT id FROM businesses WHERE slug = 'urumuri-plumbing'")
    reason = "Customers report that the phone number belongs to someone else."
    suspended = await client.post(
        f"/admin/listings/{shop_id}/suspend", data={"_csrf_token": token, "reason": reason}, headers=HTML
    )
    assert suspended.status_code in (200, 303)
    gone = await get(client, "/b/urumuri-plumbing")
    assert gone.status_code == 410 and gone.headers.get("x-cache") is None
    assert "Urumuri Plumbing" not in (await get(client, "/search?q=urumuri")).text


async def test_logged_in_visitors_are_never_served_from_the_cache_nor_stored(client, db):
    await make_business(db, business_name="Keza Salon", slug="keza-salon")
    await db.execute(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ('aline@example.rw', 'Aline', $1, 'customer', 'en', true)""",
        __import__("argon2").PasswordHasher().hash(STRONG),
    )
    await get(client, "/b/keza-salon")  # cached for anonymous visitors
    client.cookies.clear()
    assert (await log_in(client, "aline@example.rw")).status_code == 303
    for _ in range(2):
        page = await client.get("/b/keza-salon", headers=HTML)
        assert page.status_code == 200 and "x-cache" not in page.headers
        assert page.headers["cache-control"] == "private, no-cache"
        assert "Write a review" in page.text  # the logged-in visitor's own page, not the anonymous copy
    anonymous = await get(client, "/b/keza-salon")
    assert anonymous.headers["x-cache"].startswith("hit") and "Log in to write a review" in anonymous.text


async def test_a_conditional_request_gets_304_and_every_view_is_still_counted(client, db):
    shop = await make_business(db, business_name="Ineza Garage", slug="ineza-garage")
    client.cookies.clear()
    first = await client.get("/b/ineza-garage", headers=HTML)  # miss: counted by the handler
    second = await client.get("/b/ineza-garage", headers=HTML)  # hit: counted by the cache
    etag = second.headers["etag"]
    assert etag.startswith('W/"') and etag == first.headers["etag"]
    not_modified = await client.get("/b/ineza-garage", headers={**HTML, "if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    # Another visitor (another token) has another ETag: the old copy holds someone else's token.
    other = await get(client, "/b/ineza-garage", **{"if-none-match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag

    async def views():
        await client.post("/__test__/flush-analytics")
        return await db.fetchval(
            "SELECT count(*) FROM business_analytics WHERE business_id = $1 AND event_type = 'profile_view'",
            shop["id"],
        )

    await wait_for(lambda: _equals(views, 4), timeout=5, message="the four views counted")


async def _equals(read, expected) -> bool:
    return await read() == expected


async def test_languages_and_htmx_fragments_have_entries_of_their_own(client, db):
    await make_business(db, business_name="Ubumwe Tailors", slug="ubumwe-tailors")
    english = await get(client, "/search?q=ubumwe&page=1", **{"accept-language": "en"})
    assert english.headers["x-cache"] == "miss" and '<html lang="en">' in english.text
    french = await get(client, "/search?page=1&q=ubumwe", **{"accept-language": "fr"})
    assert french.headers["x-cache"] == "miss" and '<html lang="fr">' in french.text
    again = await get(client, "/search?page=1&q=ubumwe", **{"accept-language": "en"})  # same query, other order
    assert again.headers["x-cache"].startswith("hit") and '<html lang="en">' in again.text
    fragment = await get(client, "/search?q=ubumwe&page=1", **{"accept-language": "en", "hx-request": "true"})
    assert fragment.headers["x-cache"] == "miss" and "<html" not in fragment.text and "Ubumwe Tailors" in fragment.text
    assert fragment.headers["hx-push-url"] == "/search?q=ubumwe"
    fragment = await get(client, "/search?q=ubumwe&page=1", **{"accept-language": "en", "hx-request": "true"})
    assert fragment.headers["x-cache"].startswith("hit") and fragment.headers["hx-push-url"] == "/search?q=ubumwe"
    plain = await get(client, "/search?q=ubumwe&page=1", **{"accept-language": "en", "accept-encoding": "identity"})
    assert plain.headers["x-cache"].startswith("hit") and "content-encoding" not in plain.headers
    assert '<html lang="en">' in plain.text


async def test_pages_still_answer_from_memory_when_valkey_is_down(client, db, app, valkey_server):
    from servicerw.core.cache import Cache
    from servicerw.core.stores import FailOpenStore
    from servicerw.settings import ValkeySettings

    await make_business(db, business_name="Mugisha Bakery", slug="mugisha-bakery")
    proc, url = valkey_server
    pages = app.state.page_cache
    original = pages.cache, pages.store
    store = FailOpenStore.from_settings(ValkeySettings(url=url))
    pages.cache, pages.store = Cache(store), store.with_namespace("page")
    try:
        assert (await get(client, "/b/mugisha-bakery")).headers["x-cache"] == "miss"
        proc.kill()
        proc.wait()
        pages.clear()  # nothing in memory either: the page is rendered
        for expected in ("miss", "hit-memory"):
            response = await get(client, "/b/mugisha-bakery")
            assert response.status_code == 200 and response.headers["x-cache"] == expected
            assert "Mugisha Bakery" in response.text
    finally:
        pages.cache, pages.store = original


async def test_a_process_of_another_build_renders_its_own_pages(client, db, app, tmp_path):
    """A page names its build's hashed static files and carries the inline script its build's CSP allows: a
    process of another build (after a deploy, or beside it in a rolling restart) must not serve it from the
    shared cache. The build is the static files' fingerprint, which changes with any of them."""
    from servicerw.core.static import StaticFiles

    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body{color:#000}")
    first = StaticFiles(tmp_path).fingerprint
    (tmp_path / "css" / "app.css").write_text("body{color:#111}")
    assert StaticFiles(tmp_path).fingerprint != first

    await make_business(db, business_name="Mugisha Bakery", slug="mugisha-bakery")
    pages = app.state.page_cache
    assert (await get(client, "/b/mugisha-bakery")).headers["x-cache"] == "miss"
    assert (await get(client, "/b/mugisha-bakery")).headers["x-cache"].startswith("hit")
    ours = pages.build
    pages.build = "another-build"
    try:
        response = await get(client, "/b/mugisha-bakery")
        assert response.headers["x-cache"] == "miss" and "Mugisha Bakery" in response.text
    finally:
        pages.build = ours
    assert (await get(client, "/b/mugisha-bakery")).headers["x-cache"].startswith("hit")
