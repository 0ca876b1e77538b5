"""Input checked at the edge (issue 13): what any visitor can send — control characters, non-ASCII CSRF
tokens, ids past PostgreSQL's integer range, odd digits — gets a clear 4xx, never a 500."""

import re

import pytest

from tests.helpers import HTML, csrf, listing_form, owner, post_form, sign_up

pytestmark = pytest.mark.usefixtures("fresh_limits")

INT4_MAX = 2**31 - 1


@pytest.fixture
async def listed(client, db):
    """An approved listing of a logged-in owner, with a photo row, an inquiry and a review."""
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("UPDATE businesses SET status = 'approved' RETURNING id, slug")
    return business


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/account/login", {"email": "a\x00@example.rw", "password": "x"}),
        ("/account/reset", {"email": "a\x00b@example.rw"}),
        ("/account/signup", {"full_name": "A\x00", "email": "a@example.rw", "password": "x", "role": "owner"}),
        ("/account/signup", {"full_name": "A", "email": "a\x01@example.rw", "password": "x", "role": "owner"}),
    ],
)
async def test_control_characters_in_account_forms_get_400_with_a_message(client, db, path, form):
    token = await csrf(client, "/account/login")
    response = await client.post(path, data={"_csrf_token": token, **form}, headers=HTML, follow_redirects=False)
    assert response.status_code == 400
    assert "control characters" in response.text
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_nul_in_inquiry_and_review_forms_gets_400(client, db, listed):
    token = await csrf(client, "/dashboard/new")
    inquiry = await client.post(
        f"/b/{listed['slug']}/inquiries",
        data={"_csrf_token": token, "name": "Eric", "email": "e@example.rw", "message": "Hi\x00"},
        headers=HTML,
    )
    assert inquiry.status_code == 400
    review = await client.post(
        f"/b/{listed['slug']}/reviews",
        data={"_csrf_token": token, "rating": "4", "body": "Good\x00 work"},
        headers=HTML,
    )
    assert review.status_code == 400
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0


async def test_tabs_and_newlines_stay_legitimate(client, db, listed):
    page = (await client.get(f"/b/{listed['slug']}", headers=HTML)).text
    response = await client.post(
        f"/b/{listed['slug']}/inquiries",
        data={
            "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1),
            "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
            "name": "Eric",
            "email": "eric@example.rw",
            "phone": "0788 555 123",
            "preferred_contact": "phone",
            "message": "Hello,\r\n\tcan you make a shirt for me?",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code < 400
    assert await db.fetchval("SELECT message FROM customer_inquiries") == "Hello,\n\tcan you make a shirt for me?"


async def test_control_characters_in_query_strings_and_paths_get_400(client):
    assert (await client.get("/search?q=x%00y", headers=HTML)).status_code == 400
    assert (await client.get("/search/suggest?q=%07", headers=HTML)).status_code == 400
    assert (await client.get("/search?q=%FF%FE", headers=HTML)).status_code == 400  # not UTF-8
    assert (await client.get("/b/x%00y", headers=HTML)).status_code == 400
    assert (await client.get("/search?q=caf%C3%A9", headers=HTML)).status_code == 200


async def test_non_ascii_csrf_form_field_gets_403(client):
    await csrf(client, "/account/login")
    response = await client.post("/account/login", data={"_csrf_token": "é", "email": "a@b.rw"}, headers=HTML)
    assert response.status_code == 403
    assert "security token" in response.text


async def test_percent_encoded_non_ascii_csrf_cookie_gets_403(client):
    token = await csrf(client, "/account/login")
    client.cookies.clear()
    response = await client.post(
        "/account/login",
        data={"_csrf_token": token, "email": "a@b.rw", "password": "x"},
        headers={**HTML, "cookie": "csrftoken=%C3%A9t%C3%A9"},
    )
    assert response.status_code == 403


async def test_multipart_text_fields_are_checked_too(client, listed):
    token = await csrf(client, "/dashboard/new")
    bad_token = await client.post(
        f"/dashboard/{listed['id']}/photos",
        files={"_csrf_token": (None, "jeton-é"), "photos": ("a.jpg", b"\x00\x01binary is fine", "image/jpeg")},
        headers=HTML,
    )
    assert bad_token.status_code == 403
    nul = await client.post(
        f"/dashboard/{listed['id']}/photos",
        files={"_csrf_token": (None, token), "caption": (None, "a\x00b")},
        headers=HTML,
    )
    assert nul.status_code == 400


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "99999999999999999999", "-1", "1e3"])
async def test_odd_digits_in_place_selects_are_no_500(client, db, value):
    await owner(client, "aline@example.rw")
    response = await client.get(f"/dashboard/places?province_id={value}&sector_id={value}", headers=HTML)
    assert response.status_code in (200, 400)


async def test_odd_digits_in_listing_and_review_forms_are_no_500(client, db, listed):
    form = await listing_form(db, service0_price="²", category_id="²", sector_id="2147483648")
    response = await post_form(client, f"/dashboard/{listed['id']}/edit", form)
    assert response.status_code == 422
    await owner(client, "eric@example.rw")
    token = await csrf(client, "/dashboard/new")
    review = await client.post(
        f"/b/{listed['slug']}/reviews", data={"_csrf_token": token, "rating": "⁴", "body": "Good"}, headers=HTML
    )
    assert review.status_code < 500


def _int_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if ":int}" not in route.path or route.path.startswith("/__test__"):
            continue
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                routes.append((str(method), route.path))
    return routes


@pytest.mark.parametrize("big", [INT4_MAX + 1, 2**63, 10**30])
async def test_ids_past_the_integer_range_get_404_or_400_on_every_route(client, db, app, listed, big):
    await db.execute("UPDATE users SET role = 'admin'")
    token = await csrf(client, "/dashboard/new")
    walked = _int_routes(app)
    assert len(walked) >= 20
    for method, path in walked:
        # every id segment too large, then each one alone (the others being real or 1)
        variants = {re.sub(r"\{(\w+):int\}", str(big), path)}
        for name in re.findall(r"\{(\w+):int\}", path):
            variants.add(
                re.sub(
                    r"\{(\w+):int\}",
                    lambda m, name=name: str(big) if m.group(1) == name else str(listed["id"]),
                    path,
                )
            )
        for url in variants:
            url = re.sub(r"\{\w+:str\}", "delete", url.replace("{slug:str}", listed["slug"]))
            kwargs = {} if method == "GET" else {"data": {"_csrf_token": token, "note": "n", "reason": "r"}}
            response = await client.request(method, url, headers=HTML, follow_redirects=False, **kwargs)
            assert response.status_code in (400, 404), (method, url, response.status_code)


@pytest.mark.parametrize("field", ["category_id", "sector_id", "district_id", "listing", "n", "target_id"])
async def test_id_query_parameters_past_the_integer_range_are_no_500(client, db, field):
    await sign_up(client, "root@example.rw")
    await db.execute("UPDATE users SET role = 'admin'")
    for path in ("/search", "/admin/listings", "/admin/claims", "/admin/reports", "/admin/audit", "/admin/stats"):
        for value in (str(2**31), str(2**64), "²", "-5"):
            response = await client.get(f"{path}?{field}={value}", headers=HTML)
            assert response.status_code < 500, (path, field, value, response.status_code)


# --- found by the fuzz suite (tests/test_fuzz.py) -------------------------------------------------


async def test_a_photo_upload_without_a_photos_field_gets_400(client, listed):
    token = await csrf(client, "/dashboard/new")
    response = await client.post(
        f"/dashboard/{listed['id']}/photos",
        files={"_csrf_token": (None, token), "file": ("a.jpg", b"\xff\xd8", "image/jpeg")},
        headers=HTML,
    )
    assert response.status_code == 400
    assert "Choose one or more photos first" in response.text


async def test_cookies_split_over_several_headers_are_checked_too(client):
    token = await csrf(client, "/account/login")
    client.cookies.clear()
    response = await client.post(
        "/account/login",
        data={"_csrf_token": token, "email": "a@b.rw", "password": "x"},
        headers=[("accept", "text/html"), ("cookie", "lang=en"), ("cookie", "csrftoken=%C3%A9")],
    )
    assert response.status_code == 403
