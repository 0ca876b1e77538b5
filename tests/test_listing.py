"""Owners manage listings: create (pending), validation, hours and prices, moderation of name/category/place,
fields owners may never set, and no access to other owners' businesses (checklist items 7-9)."""

import json
import re

import pytest

from tests.helpers import HTML, listing_form, owner, post_form

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


async def test_the_new_listing_form_offers_every_sub_category_and_province(client, db):
    await owner(client, "aline@example.rw")
    page = (await client.get("/dashboard/new", headers=HTML)).text
    tailors = await db.fetchval("SELECT id FROM categories WHERE slug = 'tailors'")
    assert f'<option value="{tailors}">Tailors</option>' in page
    assert page.count("<optgroup") == 10 and ">Kigali City<" in page


async def test_the_dashboard_needs_a_login(client, db):
    for path in ("/dashboard", "/dashboard/new", "/dashboard/1/edit"):
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/login")


async def test_an_owner_creates_a_listing_that_waits_for_approval(client, db):
    await owner(client, "aline@example.rw")
    response = await post_form(client, "/dashboard/new", await listing_form(db))
    assert response.status_code == 303 and "/edit?created=1" in response.headers["location"]
    row = await db.fetchrow("SELECT * FROM businesses WHERE business_name = 'Niboye Couture'")
    assert row["status"] == "pending" and not row["is_verified"] and not row["is_featured"]
    assert row["slug"] == "niboye-couture-kicukiro" and row["phone"] == "+250788555111"
    assert row["email"] == "couture@example.rw" and row["website"] == "https://niboye-couture.rw"
    hours = json.loads(row["opening_hours"])
    assert hours["mon"] == hours["fri"] == [["08:00", "12:00"], ["14:00", "18:00"]]  # several days at once
    assert hours["sat"] == [["09:00", "13:00"]] and hours["sun"] == []
    services = json.loads(row["services"])
    assert services[0] == {"name_en": "Shirt", "name_rw": "Ishati", "name_fr": "", "price_rwf": 8000}
    assert services[1]["price_rwf"] == 25000
    assert (await client.get(f"/b/{row['slug']}", headers=HTML)).status_code == 404  # not public yet
    page = (await client.get("/dashboard", headers=HTML)).text
    assert "Niboye Couture" in page and "Waiting for approval" in page
    edit = (await client.get(response.headers["location"], headers=HTML)).text
    assert "will appear to customers once we have checked it" in edit and 'value="Niboye Couture"' in edit


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"business_name": ""}, "Enter the name of the business."),
        ({"category_id": "1"}, "Choose what the business does."),  # a top category is not enough
        ({"sector_id": "", "cell_id": ""}, "Choose the sector"),
        ({"phone": "call me"}, "phone number like"),
        ({"website": "javascript:alert(1)"}, "web address like"),
        ({"latitude": "48.85", "longitude": "2.35"}, "must be in Rwanda"),
        ({"mon_open1": "18:00", "mon_close1": "08:00"}, "closing time must come after"),
        ({"mon_open1": "8h", "mon_close1": "noon"}, "Write opening hours as"),
        ({"service0_price": "-5"}, "whole numbers of Rwandan francs"),
        ({"description_en": "", "description_rw": ""}, "at least one language"),
        ({"momo_pay_code": "12ab"}, "digits only"),
    ],
)
async def test_invalid_fields_get_clear_messages_and_nothing_is_saved(client, db, override, message):
    await owner(client, "aline@example.rw")
    response = await post_form(client, "/dashboard/new", await listing_form(db, **override))
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert await db.fetchval("SELECT count(*) FROM businesses") == 0


async def test_owners_cannot_set_status_verified_featured_or_rating(client, db):
    await owner(client, "aline@example.rw")
    sneaky = {
        "status": "approved",
        "is_verified": "1",
        "is_featured": "true",
        "average_rating": "5",
        "review_count": "999",
        "owner_id": "1",
        "slug": "hijack",
    }
    await post_form(client, "/dashboard/new", await listing_form(db, **sneaky))
    row = await db.fetchrow("SELECT * FROM businesses")
    assert (row["status"], row["is_verified"], row["is_featured"]) == ("pending", False, False)
    assert row["average_rating"] == 0 and row["review_count"] == 0 and row["slug"] != "hijack"
    await db.execute("UPDATE businesses SET status = 'approved'")
    await post_form(client, f"/dashboard/{row['id']}/edit", await listing_form(db, **{**sneaky, "status": "suspended"}))
    after = await db.fetchrow("SELECT * FROM businesses")
    assert (after["status"], after["is_verified"], after["is_featured"]) == ("approved", False, False)
    assert after["review_count"] == 0 and after["owner_id"] == row["owner_id"]


async def test_name_category_and_place_changes_of_an_approved_listing_wait_for_moderation(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("SELECT * FROM businesses")
    await db.execute("UPDATE businesses SET status = 'approved'")
    assert "Made-to-measure clothes." in (await client.get(f"/b/{business['slug']}", headers=HTML)).text  # cached
    form = await listing_form(db, business_name="Niboye Fashion House", description_en="Wedding dresses too.")
    response = await post_form(client, f"/dashboard/{business['id']}/edit", form)
    assert response.status_code == 303 and "saved=moderation" in response.headers["location"]
    after = await db.fetchrow("SELECT * FROM businesses")
    assert after["business_name"] == "Niboye Couture"  # public name unchanged until approved
    assert after["description_en"] == "Wedding dresses too."  # applied at once
    change = await db.fetchrow("SELECT * FROM business_changes WHERE business_id = $1", business["id"])
    assert change["status"] == "pending" and json.loads(change["changes"]) == {"business_name": "Niboye Fashion House"}
    profile = (await client.get(f"/b/{business['slug']}", headers=HTML)).text
    assert "Wedding dresses too." in profile  # the profile cache was invalidated
    assert "changes waiting for approval" in (await client.get("/dashboard", headers=HTML)).text


async def test_nobody_else_can_see_or_edit_a_listing(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business_id = await db.fetchval("SELECT id FROM businesses")
    await owner(client, "bosco@example.rw")
    assert (await client.get(f"/dashboard/{business_id}/edit", headers=HTML)).status_code == 404
    response = await post_form(client, f"/dashboard/{business_id}/edit", await listing_form(db, business_name="Mine"))
    assert response.status_code == 404
    assert (await client.get("/dashboard/999999/edit", headers=HTML)).status_code == 404  # same as missing
    assert await db.fetchval("SELECT business_name FROM businesses") == "Niboye Couture"
    assert "Niboye Couture" not in (await client.get("/dashboard", headers=HTML)).text
    await db.execute("UPDATE users SET role = 'admin' WHERE email = 'bosco@example.rw'")
    assert (await client.get(f"/dashboard/{business_id}/edit", headers=HTML)).status_code == 200  # admins may


async def test_place_selects_cascade_with_htmx_and_without_javascript(client, db):
    await owner(client, "aline@example.rw")
    kigali = await db.fetchval("SELECT id FROM locations WHERE slug = 'kigali-city'")
    fragment = await client.get(f"/dashboard/places?province_id={kigali}", headers={**HTML, "HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert ">Gasabo<" in fragment.text and ">Kicukiro<" in fragment.text and ">Musanze<" not in fragment.text
    gasabo = await db.fetchval("SELECT id FROM locations WHERE slug = 'gasabo'")
    form = {"province_id": str(kigali), "district_id": str(gasabo), "refresh_places": "1", "business_name": "Draft"}
    page = await post_form(client, "/dashboard/new", form)
    assert page.status_code == 200 and ">Kimironko<" in page.text and 'value="Draft"' in page.text
    assert await db.fetchval("SELECT count(*) FROM businesses") == 0  # nothing saved
    assert re.search(r'name="sector_id"', page.text)
