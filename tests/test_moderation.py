"""The operators' console for listings (issue 10, items 1, 2 and 4): the queue of new listings, approve or
reject with a reason (the owner sees it, fixes and resubmits), edits of live listings (diff, atomic apply,
caches dropped at once), featuring with an end date, suspension (gone from search, browse and suggestions at
once, profile 410) — each action with its audit entry and the owner's email in their language.
The app runs with its cache on (Valkey): every "at once" below is checked after the page was cached."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from tests.factories import make_business, sub_category
from tests.helpers import HTML, STRONG, listing_form, log_in, owner, post_form

HASH = PasswordHasher().hash(STRONG)
pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


async def make_user(db, email: str, role: str = "owner", language: str = "en") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ($1, $2, $3, $4, $5, true) RETURNING id""",
        email,
        "User " + email.split("@")[0].title(),
        HASH,
        role,
        language,
    )


async def as_admin(client, db, email: str = "ops@example.rw") -> str:
    """An operator, logged in; returns a CSRF token for the console's forms."""
    if not await db.fetchval("SELECT 1 FROM users WHERE email = $1", email):
        await make_user(db, email, "admin")
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303
    page = (await client.get("/dashboard/new", headers=HTML)).text
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def act(client, token: str, path: str, **form):
    return await client.post(path, data={"_csrf_token": token, **form}, headers=HTML, follow_redirects=False)


async def pending_shop(db, name: str = "Keza Salon", language: str = "fr", **overrides) -> dict:
    owner_id = await make_user(db, f"{name.split()[0].lower()}@example.rw", "owner", language)
    slug = name.lower().replace(" ", "-")
    return await make_business(db, business_name=name, slug=slug, owner_id=owner_id, status="pending", **overrides)


async def search_text(client, q: str) -> str:
    return (await client.get("/search", params={"q": q}, headers=HTML)).text


# --- new listings ---------------------------------------------------------------------------------


async def test_the_queue_lists_pending_listings_oldest_first_with_counts(client, db):
    await pending_shop(db, "Newest Garage", created_at=datetime.now(UTC))
    await pending_shop(db, "Oldest Tailor", created_at=datetime.now(UTC) - timedelta(days=3))
    await pending_shop(db, "Middle Bakery", created_at=datetime.now(UTC) - timedelta(days=1))
    await make_business(db, business_name="Already Public")
    await as_admin(client, db)
    home = (await client.get("/admin", headers=HTML)).text
    assert "New listings (3)" in home and "Edits to check (0)" in home
    page = (await client.get("/admin/listings", headers=HTML)).text
    positions = [page.index(name) for name in ("Oldest Tailor", "Middle Bakery", "Newest Garage")]
    assert positions == sorted(positions) and "Already Public" not in page
    assert "3 listings wait for a decision" in page


async def test_approving_publishes_the_listing_and_emails_the_owner_in_their_language(client, db):
    shop = await pending_shop(db, "Keza Salon", language="fr")
    assert (await client.get("/b/keza-salon", headers=HTML)).status_code == 404
    assert "Keza Salon" not in await search_text(client, "keza")  # cached: must be dropped on approval
    token = await as_admin(client, db)
    preview = await client.get(f"/admin/listings/{shop['id']}", headers=HTML)
    assert preview.status_code == 200 and "We fix leaking pipes" in preview.text  # the profile, before it is public
    assert (await client.get("/b/keza-salon", headers=HTML)).status_code == 404  # preview cached nothing public
    response = await act(client, token, f"/admin/listings/{shop['id']}/approve")
    assert response.status_code == 303 and response.headers["location"].endswith("?done=approve")
    assert "Approved: the listing is public" in (await client.get(response.headers["location"], headers=HTML)).text
    client.cookies.clear()
    assert (await client.get("/b/keza-salon", headers=HTML)).status_code == 200
    assert "Keza Salon" in await search_text(client, "keza")
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'business_approve'")
    assert mail["to_address"] == "keza@example.rw" and mail["language"] == "fr"
    assert "Keza Salon" in mail["subject"] and "est maintenant sur ServiceRW" in mail["subject"]
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'business.approve'")
    assert entry["target_id"] == shop["id"] and json.loads(entry["after"])["status"] == "approved"


async def test_rejecting_needs_a_reason_the_owner_sees_it_fixes_and_resubmits(client, db):
    await owner(client, "aline@example.rw")
    await db.execute("UPDATE users SET preferred_language = 'rw' WHERE email = 'aline@example.rw'")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("SELECT * FROM businesses")
    token = await as_admin(client, db)
    missing = await act(client, token, f"/admin/listings/{business['id']}/reject", reason="  ")
    assert missing.status_code == 422 and "Give the reason" in missing.text
    assert await db.fetchval("SELECT status FROM businesses") == "pending"
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind LIKE 'business%'") == 0  # nothing half-done
    reason = "The phone number does not answer: give a number customers can reach."
    response = await act(client, token, f"/admin/listings/{business['id']}/reject", reason=reason)
    assert response.status_code == 303
    row = await db.fetchrow("SELECT status, status_reason FROM businesses")
    assert tuple(row) == ("rejected", reason)
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'business_reject'")
    assert mail["language"] == "rw" and reason in mail["body_text"] and mail["to_address"] == "aline@example.rw"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'business.reject'") == 1

    client.cookies.clear()
    await log_in(client, "aline@example.rw")
    dashboard = (await client.get("/dashboard", headers={**HTML, "accept-language": "en"})).text
    assert "Not approved" in dashboard and reason in dashboard
    edit = (await client.get(f"/dashboard/{business['id']}/edit", headers=HTML)).text
    assert reason in edit and "it will be checked again" in edit
    preview = await client.get(f"/dashboard/{business['id']}/preview", headers=HTML)
    assert preview.status_code == 200 and "Niboye Couture" in preview.text
    saved = await post_form(client, f"/dashboard/{business['id']}/edit", await listing_form(db, phone="0788 999 000"))
    assert saved.status_code == 303 and "saved=resubmitted" in saved.headers["location"]
    row = await db.fetchrow("SELECT status, phone FROM businesses")
    assert tuple(row) == ("pending", "0788999000")

    await as_admin(client, db)
    queue = (await client.get("/admin/listings", headers=HTML)).text
    assert "Niboye Couture" in queue and "Resubmitted" in queue and reason in queue


async def test_the_owner_previews_a_pending_listing_and_nobody_else_does(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("SELECT * FROM businesses")
    assert 'href="/dashboard/{}/preview"'.format(business["id"]) in (await client.get("/dashboard", headers=HTML)).text
    page = await client.get(f"/dashboard/{business['id']}/preview", headers=HTML)
    assert page.status_code == 200 and "Made-to-measure clothes." in page.text and "Waiting for approval" in page.text
    await owner(client, "bosco@example.rw")
    assert (await client.get(f"/dashboard/{business['id']}/preview", headers=HTML)).status_code == 404
    assert (await client.get(f"/b/{business['slug']}", headers=HTML)).status_code == 404


# --- edits to live listings -------------------------------------------------------------------------


async def test_an_edit_of_a_live_listing_shows_a_diff_and_applies_at_once(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    business = await db.fetchrow("SELECT * FROM businesses")
    await db.execute("UPDATE businesses SET status = 'approved'")
    assert "Niboye Couture" in (await client.get(f"/b/{business['slug']}", headers=HTML)).text  # now cached
    assert "Niboye Couture" in await search_text(client, "niboye")
    salons = await sub_category(db, "hair-salons")
    form = await listing_form(db, business_name="Niboye Fashion House", category_id=str(salons["id"]))
    await post_form(client, f"/dashboard/{business['id']}/edit", form)
    change_id = await db.fetchval("SELECT id FROM business_changes WHERE status = 'pending'")

    token = await as_admin(client, db)
    assert "Edits to check (1)" in (await client.get("/admin", headers=HTML)).text
    queue = (await client.get("/admin/changes", headers=HTML)).text
    assert "Niboye Couture" in queue and f"/admin/changes/{change_id}" in queue
    diff = (await client.get(f"/admin/changes/{change_id}", headers=HTML)).text
    assert "<del>Niboye Couture</del>" in diff and "<ins>Niboye Fashion House</ins>" in diff
    assert "Tailors</del>" in diff and salons["name_en"] + "</ins>" in diff  # names, not ids
    response = await act(client, token, f"/admin/changes/{change_id}/approve")
    assert response.status_code == 303 and "done=change-approve" in response.headers["location"]
    row = await db.fetchrow("SELECT business_name, category_id FROM businesses")
    assert tuple(row) == ("Niboye Fashion House", salons["id"])
    assert await db.fetchval("SELECT status FROM business_changes WHERE id = $1", change_id) == "approved"
    assert await db.fetchval("SELECT reviewed_by FROM business_changes WHERE id = $1", change_id) is not None
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'business_change.approve'")
    assert json.loads(entry["before"])["business_name"] == "Niboye Couture"
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'change_approved'") == 1
    client.cookies.clear()
    assert "Niboye Fashion House" in (await client.get(f"/b/{business['slug']}", headers=HTML)).text
    assert "Niboye Fashion House" in await search_text(client, "fashion")
    # decided once: a second decision is refused and changes nothing
    token = await as_admin(client, db)
    again = await act(client, token, f"/admin/changes/{change_id}/reject", reason="Too late now.")
    assert again.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind LIKE 'change%'") == 1


async def test_an_edit_applies_whole_or_not_at_all_and_a_refusal_needs_a_reason(client, db):
    shop = await make_business(db, business_name="Keza Salon", owner_id=await make_user(db, "keza@example.rw"))
    user_id = await db.fetchval("SELECT id FROM users")
    broken = await db.fetchval(
        "INSERT INTO business_changes (business_id, user_id, changes) VALUES ($1, $2, $3::jsonb) RETURNING id",
        shop["id"],
        user_id,
        json.dumps({"business_name": "Keza Beauty", "location_id": 2_000_000_000}),
    )
    token = await as_admin(client, db)
    assert (await act(client, token, f"/admin/changes/{broken}/approve")).status_code == 409
    assert await db.fetchval("SELECT business_name FROM businesses") == "Keza Salon"  # nothing half-applied
    assert await db.fetchval("SELECT status FROM business_changes") == "pending"
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0
    missing = await act(client, token, f"/admin/changes/{broken}/reject", reason="")
    assert missing.status_code == 422 and "Give the reason" in missing.text
    refused = await act(client, token, f"/admin/changes/{broken}/reject", reason="That place does not exist.")
    assert refused.status_code == 303
    assert await db.fetchval("SELECT status FROM business_changes") == "rejected"
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'change_rejected'")
    assert "That place does not exist." in mail["body_text"] and mail["language"] == "en"


# --- featuring and suspension -------------------------------------------------------------------------


async def test_a_featured_listing_stops_being_featured_after_its_end_date(client, db):
    shop = await make_business(db, business_name="Ineza Plumbing")
    token = await as_admin(client, db)
    past = await act(client, token, f"/admin/listings/{shop['id']}/feature", until="2020-01-01")
    assert past.status_code == 422 and "today or later" in past.text
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = await act(client, token, f"/admin/listings/{shop['id']}/feature", until=tomorrow)
    assert response.status_code == 303
    assert "Ineza Plumbing" in (await client.get("/", headers=HTML)).text
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'business.feature'") == 1
    await db.execute("UPDATE businesses SET featured_until = now() - interval '1 minute'")
    assert "Ineza Plumbing" not in (await client.get("/", headers=HTML)).text  # expired by itself
    assert "Featuring ended" in (await client.get(f"/admin/listings/{shop['id']}", headers=HTML)).text
    await act(client, token, f"/admin/listings/{shop['id']}/feature", until=tomorrow)
    assert "Ineza Plumbing" in (await client.get("/", headers=HTML)).text
    assert (await act(client, token, f"/admin/listings/{shop['id']}/unfeature")).status_code == 303
    assert "Ineza Plumbing" not in (await client.get("/", headers=HTML)).text
    assert tuple(await db.fetchrow("SELECT is_featured, featured_until FROM businesses")) == (False, None)


async def test_a_suspended_listing_leaves_search_browse_and_suggestions_at_once_and_answers_410(client, db):
    owner_id = await make_user(db, "urumuri@example.rw", language="fr")
    shop = await make_business(db, business_name="Urumuri Plumbing", slug="urumuri-plumbing", owner_id=owner_id)
    # Everything cached first (the cache is on: Valkey)
    assert "Urumuri Plumbing" in await search_text(client, "urumuri")
    assert "Urumuri Plumbing" in (await client.get("/c/plumbers", headers=HTML)).text
    assert "Urumuri Plumbing" in (await client.get("/search/suggest", params={"q": "urumuri"}, headers=HTML)).text
    assert (await client.get("/b/urumuri-plumbing", headers=HTML)).status_code == 200
    token = await as_admin(client, db)
    missing = await act(client, token, f"/admin/listings/{shop['id']}/suspend", reason="")
    assert missing.status_code == 422 and await db.fetchval("SELECT status FROM businesses") == "approved"
    reason = "Customers report that the phone number belongs to someone else."
    response = await act(client, token, f"/admin/listings/{shop['id']}/suspend", reason=reason)
    assert response.status_code == 303
    client.cookies.clear()
    assert "Urumuri Plumbing" not in await search_text(client, "urumuri")
    assert "Urumuri Plumbing" not in (await client.get("/c/plumbers", headers=HTML)).text
    suggest = await client.get("/search/suggest", params={"q": "urumuri"}, headers=HTML)
    assert "Urumuri Plumbing" not in suggest.text and "max-age" not in suggest.headers["cache-control"]
    gone = await client.get("/b/urumuri-plumbing", headers=HTML)
    assert gone.status_code == 410 and "This business is no longer listed" in gone.text
    fr = await client.get("/b/urumuri-plumbing", headers={**HTML, "accept-language": "fr"})
    assert fr.status_code == 410 and "Cette entreprise n’est plus répertoriée" in fr.text
    assert (await client.get("/b/never-existed", headers=HTML)).status_code == 404
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'business_suspend'")
    assert mail["language"] == "fr" and reason in mail["body_text"] and mail["to_address"] == "urumuri@example.rw"
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'business.suspend'")
    assert entry["note"] == reason and json.loads(entry["before"])["status"] == "approved"

    token = await as_admin(client, db)
    assert (await act(client, token, f"/admin/listings/{shop['id']}/reactivate")).status_code == 303
    client.cookies.clear()
    assert (await client.get("/b/urumuri-plumbing", headers=HTML)).status_code == 200
    assert "Urumuri Plumbing" in await search_text(client, "urumuri")


# --- who may, and bad input -----------------------------------------------------------------------


async def test_the_console_is_404_to_owners_and_a_log_in_for_visitors(client, db):
    shop = await pending_shop(db)
    for path in ("/admin/listings", f"/admin/listings/{shop['id']}", "/admin/changes"):
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    await owner(client, "bosco@example.rw")
    for path in ("/admin/listings", f"/admin/listings/{shop['id']}", "/admin/changes", "/admin/changes/1"):
        assert (await client.get(path, headers=HTML)).status_code == 404
    token = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get("/dashboard/new")).text).group(1)
    assert (await act(client, token, f"/admin/listings/{shop['id']}/approve")).status_code == 404
    assert await db.fetchval("SELECT status FROM businesses") == "pending"
    assert (await act(client, "", f"/admin/listings/{shop['id']}/approve")).status_code == 403  # no CSRF token


@pytest.mark.parametrize(
    "path",
    [
        "/admin/listings/2147483648",
        "/admin/listings/99999999999999999999",
        "/admin/listings/0",
        "/admin/listings/424242",
        "/admin/changes/2147483648",
        "/admin/changes/424242",
        "/admin/listings?page=0",
        "/admin/listings?page=%00",
    ],
)
async def test_unknown_and_out_of_range_ids_get_a_clear_4xx(client, db, path):
    await as_admin(client, db)
    response = await client.get(path, headers=HTML)
    assert 400 <= response.status_code < 500


async def test_bad_posts_get_a_clear_4xx_and_change_nothing(client, db):
    shop = await pending_shop(db)
    token = await as_admin(client, db)
    cases = [
        (f"/admin/listings/{2**31}/approve", {}),
        ("/admin/listings/424242/approve", {}),
        ("/admin/changes/2147483648/approve", {}),
        (f"/admin/listings/{shop['id']}/delete", {}),
        (f"/admin/listings/{shop['id']}/reject", {"reason": "Bad\x00reason text"}),
        (f"/admin/listings/{shop['id']}/suspend", {"reason": "\x00\x00\x00"}),
        (f"/admin/listings/{shop['id']}/feature", {"until": "\x00"}),
        (f"/admin/listings/{shop['id']}/feature", {"until": "２０３０-01-01"}),
        (f"/admin/listings/{shop['id']}/reactivate", {}),  # not suspended: 409
    ]
    for path, form in cases:
        response = await act(client, token, path, **form)
        assert 400 <= response.status_code < 500, (path, form, response.status_code)
    assert await db.fetchval("SELECT status FROM businesses") == "pending"
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0
