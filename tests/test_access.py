"""Checklist item 7 and 8: walk every route of the app anonymously and as another owner; nothing of an
owner's business leaks, and every unsafe method needs the CSRF token."""

import re

import pytest
from litestar import HttpMethod

from tests.helpers import HTML, listing_form, owner, post_form

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero

PUBLIC_PREFIXES = ("/", "/b/", "/c/", "/p/", "/search", "/lang/", "/static/", "/healthz", "/readyz", "/media")
OWNER_PREFIXES = ("/dashboard", "/account", "/admin")


def concrete(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids.get(m.group(1), "x")), path)


def owner_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if not route.path.startswith(OWNER_PREFIXES) or route.path.startswith("/__test__"):
            continue
        for method in getattr(route, "methods", ()):
            if method in (HttpMethod.HEAD, HttpMethod.OPTIONS, "HEAD", "OPTIONS"):
                continue
            routes.append((str(method), route.path))
    return routes


@pytest.fixture
async def owned(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("SELECT id, slug, business_name FROM businesses")
    image_id = await db.fetchval(
        "INSERT INTO business_images (business_id, storage_key, status) VALUES ($1, 'img/00/x', 'ready') RETURNING id",
        business["id"],
    )
    inquiry_id = await db.fetchval(
        """INSERT INTO customer_inquiries (business_id, customer_name, customer_email, message)
           VALUES ($1, 'Claudine', 'claudine@example.rw', 'Private message to the owner') RETURNING id""",
        business["id"],
    )
    customer = await db.fetchval(
        "INSERT INTO users (email, full_name, password_hash) VALUES ('c@example.rw', 'C', 'x') RETURNING id"
    )
    review_id = await db.fetchval(
        """INSERT INTO reviews (business_id, user_id, rating, body, status)
           VALUES ($1, $2, 4, 'Good work', 'approved') RETURNING id""",
        business["id"],
        customer,
    )
    return {
        "business_id": business["id"],
        "listing_id": business["id"],  # the operators' console (/admin/listings/{listing_id}, claims/)
        "change_id": 1,
        "image_id": image_id,
        "inquiry_id": inquiry_id,
        "review_id": review_id,
        "report_id": 1,
        "user_id": customer,
        "action": "delete",
        "claim_id": 1,
        "key_id": 1,  # an API key (/dashboard/api-keys/{key_id}, /admin/api-keys/{key_id})
        "name": business["business_name"],
    }


async def test_every_owner_route_refuses_anonymous_visitors(client, db, owned, app):
    client.cookies.clear()
    walked = owner_routes(app)
    assert len(walked) >= 12
    for method, path in walked:
        url = concrete(path, owned)
        response = await client.request(method, url, headers=HTML, follow_redirects=False)
        if method == "GET":
            public = url.startswith(
                ("/account/signup", "/account/login", "/account/reset", "/account/verify", "/dashboard/places")
            )
            if not public:
                assert response.status_code in (303, 404), (method, url, response.status_code)
                assert owned["name"] not in response.text, url
        else:
            assert response.status_code == 403, (method, url, response.status_code)  # no CSRF token
    assert await db.fetchval("SELECT count(*) FROM business_images") == 1


async def test_another_owner_gets_404_on_every_route_of_the_business(client, db, owned, app):
    await owner(client, "bosco@example.rw")
    page = (await client.get("/dashboard/new", headers=HTML)).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    for method, path in owner_routes(app):
        if "{business_id" not in path:
            continue
        url = concrete(path, owned)
        kwargs = {} if method == "GET" else {"data": {"_csrf_token": token}}
        response = await client.request(method, url, headers=HTML, follow_redirects=False, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)
        assert owned["name"] not in response.text
    assert await db.fetchval("SELECT count(*) FROM business_images") == 1
    assert await db.fetchval("SELECT business_name FROM businesses") == owned["name"]
    assert await db.fetchval("SELECT status FROM customer_inquiries") == "new"  # not even marked read
    assert await db.fetchval("SELECT owner_reply FROM reviews") == ""


def test_public_route_list_is_what_we_expect(app):
    paths = {route.path for route in app.routes if not route.path.startswith("/__test__")}
    unexpected = [p for p in paths if not p.startswith(PUBLIC_PREFIXES + OWNER_PREFIXES)]
    assert not unexpected, unexpected
