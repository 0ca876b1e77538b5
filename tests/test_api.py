"""The public API (/api/v1, /graphql): what a partner's program sees — JSON over the pages' own data, paging
links, ETags, problem documents for every error, keys, tiers and rate limits; and what owners and operators
do with keys in the dashboard and the console."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.factories import make_business
from tests.helpers import HTML, api_key, bearer, csrf, log_in, owner, sign_up

pytestmark = pytest.mark.usefixtures("fresh_limits")
JSON = {"accept": "application/json", "accept-language": "en"}


async def _reviewed(db, business_id: int, count: int) -> None:
    for i in range(count):
        user = await db.fetchval(
            "INSERT INTO users (email, full_name) VALUES ($1, 'Eric Habimana') RETURNING id", f"r{i}@example.rw"
        )
        await db.execute(
            """INSERT INTO reviews (business_id, user_id, rating, body, status, created_at)
               VALUES ($1, $2, 4, $3, 'approved', now() - make_interval(mins => $4))""",
            business_id,
            user,
            f"Review number {i} of this business",
            i,
        )


async def test_search_answers_json_with_facets_links_etag_and_compression(client, db):
    for i in range(23):
        await make_business(db, business_name=f"Amazi Plumbing {i}", slug=f"amazi-plumbing-{i}")
    response = await client.get("/api/v1/search?q=amazi&sort=rating", headers={**JSON, "accept-encoding": "br"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-encoding"] == "br"
    body = response.json()
    assert body["total"] == 23 and body["pages"] == 2 and len(body["items"]) == 20
    assert body["facets"]["categories"][0]["count"] == 23
    first = body["items"][0]
    assert first["url"] == f"/api/v1/businesses/{first['slug']}" and first["category"]["slug"] == "plumbers"
    assert body["links"]["prev"] is None
    assert body["links"]["next"] == "/api/v1/search?q=amazi&sort=rating&page=2"
    second = (await client.get(body["links"]["next"], headers=JSON)).json()
    assert len(second["items"]) == 3 and second["links"]["next"] is None
    assert second["links"]["prev"] == "/api/v1/search?q=amazi&sort=rating"
    # The same answer again: 304 with the ETag, no body.
    again = await client.get(
        "/api/v1/search?q=amazi&sort=rating", headers={**JSON, "if-none-match": response.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    # CORS for GET, any origin, without credentials; no session cookie is ever set.
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "set-cookie" not in response.headers


async def test_paging_has_no_depth_cap(client, db):
    await make_business(db, business_name="Solo Salon", slug="solo-salon")
    deep = await client.get("/api/v1/search?page=5000", headers=JSON)
    assert deep.status_code == 200
    assert deep.json()["items"] == [] and deep.json()["links"]["prev"] == "/api/v1/search?page=4999"


async def test_business_by_slug_has_photos_hours_services_and_rating(client, db):
    shop = await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    await db.execute(
        "INSERT INTO business_images (business_id, storage_key, status, width, height) "
        "VALUES ($1, 'img/00/abc', 'ready', 1600, 1200)",
        shop["id"],
    )
    await _reviewed(db, shop["id"], 2)
    await db.execute("UPDATE businesses SET average_rating = 4, review_count = 2 WHERE id = $1", shop["id"])
    response = await client.get("/api/v1/businesses/amazi-plumbing", headers=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Amazi Plumbing" and body["rating"] == 4.0 and body["review_count"] == 2
    assert body["services"] == [{"name": "Pipe repair", "price_rwf": 15000}]
    assert [h["day"] for h in body["hours"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert body["hours"][0]["intervals"][0] == {"opens": "08:00", "closes": "12:00"}
    assert isinstance(body["open_now"], bool)
    sizes = body["photos"][0]["sizes"]
    assert [s["width"] for s in sizes] == [320, 640, 1280]
    assert sizes[0]["webp"].endswith("img/00/abc/320.webp") and sizes[2]["jpeg"].endswith("img/00/abc/1280.jpg")
    assert body["links"]["next"] == "/api/v1/businesses/amazi-plumbing/reviews"
    # The language of names follows Accept-Language.
    french = (await client.get("/api/v1/businesses/amazi-plumbing", headers={**JSON, "accept-language": "fr"})).json()
    assert french["services"][0]["name"] == "Réparation de tuyaux"


async def test_reviews_are_paged_newest_first(client, db):
    shop = await make_business(db, slug="busy-salon")
    await _reviewed(db, shop["id"], 25)
    first = (await client.get("/api/v1/businesses/busy-salon/reviews", headers=JSON)).json()
    assert len(first["items"]) == 20 and first["items"][0]["body"] == "Review number 0 of this business"
    assert first["items"][0]["author"] == "Eric H."
    assert first["links"]["next"] == "/api/v1/businesses/busy-salon/reviews?page=2"
    second = (await client.get(first["links"]["next"], headers=JSON)).json()
    assert len(second["items"]) == 5 and second["links"]["next"] is None


async def test_categories_places_and_suggestions(client, db):
    await make_business(db, business_name="Kimironko Tailors", slug="kimironko-tailors")
    categories = (await client.get("/api/v1/categories", headers=JSON)).json()["items"]
    assert any(c["children"] and c["children"][0]["slug"] for c in categories)
    places = (await client.get("/api/v1/places", headers=JSON)).json()["items"]
    assert len(places) == 5
    assert sum(len(d["sectors"]) for p in places for d in p["districts"]) > 400
    suggestions = (await client.get("/api/v1/suggestions?q=kimir", headers=JSON)).json()["items"]
    assert {
        "kind": "business",
        "label": "Kimironko Tailors · Kimironko",
        "web_url": "/b/kimironko-tailors",
    } in suggestions


async def test_errors_are_problem_documents_never_html(client, db):
    shop = await make_business(db, slug="gone-garage")
    await db.execute("UPDATE businesses SET status = 'suspended' WHERE id = $1", shop["id"])
    cases = {
        "/api/v1/businesses/nobody-here": 404,
        "/api/v1/businesses/%00%01": 400,  # refused at the edge (control characters), still a problem document
        "/api/v1/businesses/gone-garage": 410,
        "/api/v1/search?min_rating=9": 400,
        "/api/v1/search?near=north": 400,
        "/api/v1/search?page=0": 400,
        "/api/v1/search?page=99999999999": 400,
        "/api/v1/nothing-here": 404,
        "/api/v1/owner/businesses": 401,
    }
    for path, status in cases.items():
        response = await client.get(path, headers=HTML)  # even a browser gets JSON under /api
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/problem+json", path
        problem = response.json()
        assert problem["status"] == status and problem["title"] and problem["type"] == "about:blank"
        assert "ratelimit" in response.headers, path
    wrong_method = await client.delete("/api/v1/categories", headers=JSON)
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == "application/problem+json"


async def test_keys_are_checked_and_rate_limited_by_tier(client, db):
    key, _user = await api_key(db, tier="free")
    for header in ({"authorization": "Bearer srw_wrong"}, {"authorization": "Basic abc"}, {"authorization": "Bearer"}):
        refused = await client.get("/api/v1/categories", headers={**JSON, **header})
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    answers = [await client.get("/api/v1/categories", headers={**JSON, **bearer(key)}) for _ in range(101)]
    assert [r.status_code for r in answers[:100]] == [200] * 100
    assert answers[0].headers["ratelimit-policy"] == '"free";q=100;w=900'
    assert answers[0].headers["ratelimit"].startswith('"free";r=99;t=')
    refused = answers[100]
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 900
    assert refused.headers["ratelimit"].startswith('"free";r=0;')
    # Another key has its own budget; a revoked key stops working at once.
    other, _ = await api_key(db, email="other@example.rw", tier="basic")
    fine = await client.get("/api/v1/categories", headers={**JSON, **bearer(other)})
    assert fine.status_code == 200 and fine.headers["ratelimit-policy"] == '"basic";q=1000;w=900'
    await db.execute("UPDATE api_keys SET revoked_at = now()")
    assert (await client.get("/api/v1/categories", headers={**JSON, **bearer(other)})).status_code == 401


async def test_requests_without_key_have_a_small_limit_per_address(client, db):
    answers = [await client.get("/api/v1/categories", headers=JSON) for _ in range(61)]
    assert answers[0].headers["ratelimit-policy"] == '"anonymous";q=60;w=900'
    assert [r.status_code for r in answers[:60]] == [200] * 60 and answers[60].status_code == 429


async def test_owner_endpoints_are_scoped_to_the_keys_businesses(client, db):
    key, user_id = await api_key(db, email="jean@example.rw")
    mine = await make_business(db, slug="jean-motors", owner_id=user_id)
    theirs = await make_business(db, slug="other-motors")
    for i, status in enumerate(["new", "new", "read", "closed"] * 7):
        await db.execute(
            """INSERT INTO customer_inquiries (business_id, customer_name, customer_phone, message, status,
                                               preferred_contact, idempotency_key)
               VALUES ($1, 'Claudine', '0788555123', $2, $3, 'phone', gen_random_uuid())""",
            mine["id"],
            f"Message {i}: can you fix my car on Saturday?",
            status,
        )
    listed = (await client.get("/api/v1/owner/businesses", headers={**JSON, **bearer(key)})).json()["items"]
    assert [(b["slug"], b["unread"]) for b in listed] == [("jean-motors", 14)]
    base = f"/api/v1/owner/businesses/{mine['id']}"
    page = (await client.get(f"{base}/inquiries?status=new", headers={**JSON, **bearer(key)})).json()
    assert page["counts"] == {"new": 14, "read": 7, "replied": 0, "closed": 7, "all": 28}
    assert len(page["items"]) == 14 and {i["status"] for i in page["items"]} == {"new"}
    everything = (await client.get(f"{base}/inquiries", headers={**JSON, **bearer(key)})).json()
    assert len(everything["items"]) == 20 and everything["links"]["next"] == f"{base}/inquiries?page=2"
    inquiry = page["items"][0]["id"]
    # A write with the key alone: no CSRF token, no session.
    changed = await client.patch(f"{base}/inquiries/{inquiry}", json={"status": "closed"}, headers=bearer(key))
    assert changed.status_code == 200 and changed.json() == {"id": inquiry, "status": "closed"}
    assert await db.fetchval("SELECT status FROM customer_inquiries WHERE id = $1", inquiry) == "closed"
    bad = await client.patch(f"{base}/inquiries/{inquiry}", json={"status": "deleted"}, headers=bearer(key))
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    stats = (await client.get(f"{base}/stats?days=7", headers={**JSON, **bearer(key)})).json()
    assert stats["days"] == 7 and {m["key"] for m in stats["metrics"]} >= {"profile_view", "inquiry"}
    assert next(m for m in stats["metrics"] if m["key"] == "inquiry")["total"] == 28
    # Someone else's business, or none at all: the same 404.
    for path in (f"/api/v1/owner/businesses/{theirs['id']}/inquiries", "/api/v1/owner/businesses/2147483648/stats"):
        response = await client.get(path, headers={**JSON, **bearer(key)})
        assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    other = await client.patch(
        f"/api/v1/owner/businesses/{theirs['id']}/inquiries/{inquiry}", json={"status": "read"}, headers=bearer(key)
    )
    assert other.status_code == 404


async def test_a_logged_in_session_is_not_an_api_credential(client, db):
    await sign_up(client, email="aline@example.rw")
    await log_in(client, email="aline@example.rw")
    assert client.cookies.get("session")
    response = await client.get("/api/v1/owner/businesses", headers=JSON)
    assert response.status_code == 401


async def test_deactivated_accounts_keys_are_refused(client, db):
    key, user_id = await api_key(db, email="gone@example.rw")
    await db.execute("UPDATE users SET is_active = false WHERE id = $1", user_id)
    response = await client.get("/api/v1/categories", headers={**JSON, **bearer(key)})
    assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"


async def test_openapi_documents_the_api_only_and_the_docs_use_local_files(client, db):
    schema = (await client.get("/api/v1/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert schema["paths"] and all(path.startswith("/api/v1/") for path in schema["paths"])
    assert "/api/v1/search" in schema["paths"] and "/api/v1/owner/businesses/{business_id}/inquiries" in schema["paths"]
    examples = schema["paths"]["/api/v1/search"]["get"]["parameters"][0]["examples"]
    assert examples
    docs = await client.get("/api/docs", headers=HTML)
    assert docs.status_code == 200
    assert "swagger-ui-bundle" in docs.text and "https://" not in docs.text and "http://" not in docs.text
    bundle = docs.text.split('src="')[1].split('"')[0]
    assert (await client.get(bundle)).status_code == 200
    assert (await client.get("/static/vendor/swagger-ui/LICENSE.txt")).status_code == 200


async def test_owners_create_and_revoke_keys_shown_once_stored_hashed(client, db):
    await owner(client, "keys@example.rw")
    token = await csrf(client, "/dashboard/api-keys")
    page = await client.post(
        "/dashboard/api-keys", data={"_csrf_token": token, "name": "My app"}, headers=HTML, follow_redirects=False
    )
    assert page.status_code == 200
    secret = page.text.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith("srw_") and len(secret) > 40
    stored = await db.fetchrow("SELECT * FROM api_keys")
    assert secret not in str(dict(stored)).replace(secret[:12], "") and stored["prefix"] == secret[:12]
    again = await client.get("/dashboard/api-keys", headers=HTML)
    assert secret not in again.text and secret[:12] in again.text and "My app" in again.text
    assert (await client.get("/api/v1/owner/businesses", headers={**JSON, **bearer(secret)})).status_code == 200
    revoke = await client.post(
        f"/dashboard/api-keys/{stored['id']}/revoke", data={"_csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert revoke.status_code == 303 and revoke.headers["location"] == "/dashboard/api-keys?done=revoked"
    assert (await client.get("/api/v1/owner/businesses", headers={**JSON, **bearer(secret)})).status_code == 401
    # Someone else's key cannot be revoked (404), nor can an id out of range.
    other, _ = await api_key(db, email="stranger@example.rw")
    other_id = await db.fetchval("SELECT id FROM api_keys WHERE prefix = $1", other[:12])
    for key_id in (other_id, 2**31):
        response = await client.post(
            f"/dashboard/api-keys/{key_id}/revoke", data={"_csrf_token": token}, headers=HTML, follow_redirects=False
        )
        assert response.status_code == 404


async def test_operators_set_a_keys_tier_with_an_audit_entry(client, db):
    key, _ = await api_key(db, email="partner@example.rw")
    key_id = await db.fetchval("SELECT id FROM api_keys")
    await owner(client, "not-admin@example.rw")
    assert (await client.get(f"/admin/api-keys/{key_id}", headers=HTML)).status_code == 404
    await db.execute("UPDATE users SET role = 'admin' WHERE email = 'not-admin@example.rw'")
    listing = await client.get("/admin/api-keys?q=partner", headers=HTML)
    assert key[:12] in listing.text
    token = await csrf(client, f"/admin/api-keys/{key_id}")
    changed = await client.post(
        f"/admin/api-keys/{key_id}/tier",
        data={"_csrf_token": token, "tier": "premium", "note": "NGO directory"},
        headers=HTML,
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == f"/admin/api-keys/{key_id}?done=changed"
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'api_key.tier'")
    assert entry["target_id"] == key_id and entry["note"] == "NGO directory"
    assert '"premium"' in entry["after"] and '"free"' in entry["before"]
    answer = await client.get("/api/v1/categories", headers={**JSON, **bearer(key)})
    assert answer.headers["ratelimit-policy"] == '"premium";q=10000;w=900'
    bad = await client.post(f"/admin/api-keys/{key_id}/tier", data={"_csrf_token": token, "tier": "gold"}, headers=HTML)
    assert bad.status_code == 422


def test_the_command_prints_a_key_for_scripts(migrated_db):
    import asyncio

    import asyncpg

    async def arrange():
        conn = await asyncpg.connect(migrated_db)
        await conn.execute(
            "INSERT INTO users (email, full_name, role) VALUES ('script@example.rw', 'Script', 'owner') "
            "ON CONFLICT DO NOTHING"
        )
        await conn.close()

    asyncio.run(arrange())
    env = {**os.environ, "DATABASE_URL": migrated_db}
    done = subprocess.run(
        [sys.executable, "-m", "servicerw.cli", "api-key", "create", "--email", "script@example.rw", "--tier", "basic"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("srw_")
    unknown = subprocess.run(
        [sys.executable, "-m", "servicerw.cli", "api-key", "create", "--email", "nobody@example.rw"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2 and "no active account" in unknown.stderr


async def test_counters_are_atomic_in_valkey_and_per_process_when_valkey_is_down(valkey_server):
    """Two clients (as two processes would) counting at once in one window never lose a count; with Valkey
    gone, counting goes on in the process (the API keeps answering) rather than failing."""
    import asyncio

    from valkey.asyncio import Valkey

    from servicerw.core.stores import build_counter_store
    from servicerw.settings import ValkeySettings

    process, url = valkey_server
    # as the app builds them (core.stores.build_counter_store): a busy machine is not a Valkey outage
    first = build_counter_store(ValkeySettings(url=url)).with_namespace("api")
    second = build_counter_store(ValkeySettings(url=url)).with_namespace("api")
    counts = await asyncio.gather(*(store.incr_by("key:1:7", 1, 960) for store in [first, second] * 60))
    assert sorted(counts) == list(range(1, 121))
    assert await first.incr_by("key:1:7", 5, 960) == 125
    raw = Valkey.from_url(url)
    [stored] = await raw.keys("*key:1:7")
    assert 900 < await raw.ttl(stored) <= 960
    await raw.aclose()
    process.kill()
    process.wait()
    assert await first.incr_by("key:1:7", 1, 960) == 1  # in this process only, from zero
    assert await first.incr_by("key:1:7", 1, 960) == 2
    await first.close()
    await second.close()
