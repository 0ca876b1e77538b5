"""The first vertical slice as a customer sees it: home, profile, search, errors, languages."""

import html

import brotli
import pytest

from tests.factories import make_business
from tests.helpers import wait_for

HTML = {"accept": "text/html"}


async def test_home_shows_search_categories_and_only_public_featured_businesses(client, db):
    await make_business(db, business_name="Ineza Plumbing Kimironko", is_featured=True)
    await make_business(db, business_name="Pending Featured Garage", is_featured=True, status="pending")
    await make_business(db, business_name="Inactive Featured Salon", is_featured=True, is_active=False)
    await make_business(db, business_name="Ordinary Tailor", is_featured=False)
    response = await client.get("/", headers={**HTML, "accept-language": "en"})
    assert response.status_code == 200
    page = response.text
    assert 'action="/search"' in page and 'name="q"' in page
    assert "Home repairs" in page and "Plumbers" in page
    assert "Ineza Plumbing Kimironko" in page
    assert "Pending Featured Garage" not in page
    assert "Inactive Featured Salon" not in page
    assert "Ordinary Tailor" not in page


async def test_home_without_featured_businesses_says_so(client, db):
    response = await client.get("/", headers={**HTML, "accept-language": "en"})
    assert "No featured businesses yet" in response.text


async def test_profile_shows_everything_a_customer_needs(client, db):
    business = await make_business(
        db,
        business_name="Amazi Meza Plumbing",
        is_verified=True,
        website="https://amazimeza.rw",
        average_rating=4.5,
        review_count=12,
    )
    response = await client.get(f"/b/{business['slug']}", headers={**HTML, "accept-language": "en"})
    assert response.status_code == 200
    page = response.text
    assert "<h1>Amazi Meza Plumbing" in page and "Verified" in page
    assert "Plumbers" in page and "Kimironko" in page and "Gasabo" in page and "Kigali City" in page
    assert "We fix leaking pipes" in page  # English description
    assert 'href="tel:+250788123456"' in page
    assert 'href="https://wa.me/250788123456"' in page
    assert f'href="mailto:{business["email"]}"' in page
    assert "Pipe repair" in page and "15,000 RWF" in page
    assert "Monday" in page and "08:00–12:00, 14:00–18:00" in page and "Closed" in page
    assert "123456" in page  # MoMo Pay code
    assert "4.5" in page and "12 reviews" in page


async def test_profile_description_and_labels_follow_the_language(client, db):
    business = await make_business(db)
    fr = html.unescape(
        (await client.get(f"/b/{business['slug']}", headers={**HTML, "accept-language": "fr-FR,fr;q=0.9"})).text
    )
    rw = html.unescape((await client.get(f"/b/{business['slug']}", headers={**HTML, "accept-language": "rw"})).text)
    assert '<html lang="fr">' in fr and "Nous réparons les fuites" in fr and "Heures d'ouverture" in fr
    assert "Plombiers" in fr and "Lundi" in fr and "15 000 RWF" in fr.replace("\u202f", " ").replace("\xa0", " ")
    assert '<html lang="rw">' in rw and "Dusana amatiyo" in rw and "Amasaha y'akazi" in rw
    assert "Abafundi b'amazi" in rw


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
async def test_unapproved_businesses_have_no_public_profile(client, db, status):
    business = await make_business(db, status=status)
    response = await client.get(f"/b/{business['slug']}", headers=HTML)
    # A suspended listing was public: its address answers 410 Gone (tests/test_moderation.py), the others 404.
    assert response.status_code == (410 if status == "suspended" else 404)
    assert business["business_name"] not in response.text


async def test_deactivated_business_has_no_public_profile(client, db):
    business = await make_business(db, is_active=False)
    assert (await client.get(f"/b/{business['slug']}", headers=HTML)).status_code == 404


async def test_profile_without_hours_or_contact_extras_still_renders(client, db):
    business = await make_business(db, opening_hours={}, services=[], email="", whatsapp_number="", momo_pay_code="")
    page = (await client.get(f"/b/{business['slug']}", headers={**HTML, "accept-language": "en"})).text
    assert "Opening hours not given." in page
    assert "wa.me" not in page and "mailto:" not in page


async def test_unknown_page_gets_a_translated_404_page(client, db):
    response = await client.get("/b/no-such-business", headers={**HTML, "accept-language": "fr"})
    assert response.status_code == 404
    assert "Page introuvable" in response.text and '<html lang="fr">' in response.text
    response = await client.get("/no/such/route", headers={**HTML, "accept-language": "en"})
    assert response.status_code == 404 and "Page not found" in response.text


async def test_bad_query_values_get_a_clear_400_not_a_500(client, db):
    for url in ("/search?page=0", "/search?page=abc", "/search?q=" + "x" * 500):
        response = await client.get(url, headers={**HTML, "accept-language": "en"})
        assert response.status_code == 400, url
        assert "not valid" in response.text


async def test_search_finds_by_name_prefix_and_place_and_ignores_sql_metacharacters(client, db):
    await make_business(db, business_name="Urumuri Auto Garage")
    await make_business(db, business_name="Salon Keza", status="pending")
    page = (await client.get("/search?q=urum", headers={**HTML, "accept-language": "en"})).text
    assert "Urumuri Auto Garage" in page and "1 business found" in page
    page = (await client.get("/search?q=kimironko", headers={**HTML, "accept-language": "en"})).text
    assert "Urumuri Auto Garage" in page and "Salon Keza" not in page
    for nasty in ("'); drop table businesses; --", "%_\\", "a:* | !b", "&&&"):
        response = await client.get("/search", params={"q": nasty}, headers=HTML)
        assert response.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM businesses") == 2


async def test_language_switch_is_remembered_in_a_cookie_and_only_redirects_locally(client, db):
    response = await client.get("/lang/fr?next=/search%3Fq%3Dsalon", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/search?q=salon"
    assert "lang=fr" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    page = (await client.get("/", headers={**HTML, "accept-language": "en"})).text
    assert '<html lang="fr">' in page  # the cookie beats Accept-Language
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        response = await client.get("/lang/en", params={"next": evil}, follow_redirects=False)
        assert response.headers["location"] == "/"


async def test_kinyarwanda_is_the_default_language(client, db):
    page = (await client.get("/", headers=HTML)).text
    assert '<html lang="rw">' in page and "Shakisha" in page


async def test_first_html_response_of_home_and_profile_is_under_14kb_compressed(client, db):
    for _ in range(8):
        await make_business(db, is_featured=True, business_name="Long Featured Business Name Ltd")
    business = await make_business(db)
    for url in ("/", f"/b/{business['slug']}"):
        response = await client.get(url, headers={**HTML, "accept-encoding": "br"})
        assert response.headers["content-encoding"] == "br"
        raw = response.extensions.get("raw_bytes") if hasattr(response, "extensions") else None
        compressed = len(raw) if raw else len(brotli.compress(response.content, quality=5))
        assert compressed < 14 * 1024, (url, compressed)


async def test_profile_views_and_taps_on_call_whatsapp_website_email_are_counted(client, db):
    import re as _re

    business = await make_business(db, website="https://example.rw")
    page = (await client.get(f"/b/{business['slug']}", headers=HTML)).text
    assert f'hx-post="/b/{business["slug"]}/tap/call"' in page and 'href="tel:' in page  # the link still works
    token = _re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)
    for kind in ("call", "whatsapp", "website", "email"):
        response = await client.post(f"/b/{business['slug']}/tap/{kind}", headers={"x-csrftoken": token})
        assert response.status_code == 204
    assert (await client.post(f"/b/{business['slug']}/tap/fax", headers={"x-csrftoken": token})).status_code == 404
    pending = await make_business(db, status="pending")
    response = await client.post(f"/b/{pending['slug']}/tap/call", headers={"x-csrftoken": token})
    assert response.status_code == 404

    async def five_kinds_counted():
        counts = dict(
            await db.fetch(
                "SELECT event_type, count(*) FROM business_analytics WHERE business_id = $1 GROUP BY 1", business["id"]
            )
        )
        return counts if len(counts) == 5 else None

    counts = await wait_for(five_kinds_counted, timeout=5, message="the five kinds of events counted")
    assert counts == {"profile_view": 1, "call_click": 1, "whatsapp_click": 1, "website_click": 1, "email_click": 1}
