"""Reviews: logged-in customers, one per business, never by the owner, pending until an administrator
publishes them; the owner answers once; the business's rating stays exact under concurrent moderation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in

HASH = PasswordHasher().hash(STRONG)


pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


async def make_user(db, email: str, role: str = "customer", language: str = "en", name: str = "Aline Uwase") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ($1, $2, $3, $4, $5, true) RETURNING id""",
        email,
        name,
        HASH,
        role,
        language,
    )


@pytest.fixture
async def shop(db):
    owner_id = await make_user(db, "owner@example.rw", "owner", "fr", "Jean Habimana")
    return await make_business(db, business_name="Keza Salon", slug="keza-salon", owner_id=owner_id)


async def as_user(client, email: str) -> str:
    """Log in; returns a CSRF token for the next forms."""
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def write(client, token: str, rating="5", body="Great haircut, friendly staff and fair prices.", headers=HTML):
    return await client.post(
        "/b/keza-salon/reviews",
        data={"_csrf_token": token, "rating": rating, "body": body},
        headers=headers,
        follow_redirects=False,
    )


async def test_visitors_are_asked_to_log_in_to_review(client, db, shop):
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "Log in to write a review" in page and 'name="rating"' not in page
    assert "No reviews yet" in page


async def test_a_customer_review_waits_for_moderation(client, db, shop):
    await make_user(db, "aline@example.rw")
    token = await as_user(client, "aline@example.rw")
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert 'name="rating"' in page
    response = await write(client, token)
    assert response.status_code == 303
    row = await db.fetchrow("SELECT * FROM reviews")
    assert row["status"] == "pending" and row["rating"] == 5 and row["language"] == "en"
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "Your review is waiting for moderation." in page and "Great haircut" not in page
    client.cookies.clear()
    assert "Great haircut" not in (await client.get("/b/keza-salon", headers=HTML)).text
    assert await db.fetchval("SELECT review_count FROM businesses WHERE id = $1", shop["id"]) == 0


async def test_with_htmx_the_form_is_replaced_by_a_thank_you(client, db, shop):
    await make_user(db, "aline@example.rw")
    token = await as_user(client, "aline@example.rw")
    response = await write(client, token, headers={**HTML, "hx-request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert "Your review will appear after a moderator checks it." in response.text


@pytest.mark.parametrize(
    "rating, body, message",
    [
        ("0", "Great haircut, friendly staff.", "Choose from 1 to 5 stars."),
        ("6", "Great haircut, friendly staff.", "Choose from 1 to 5 stars."),
        ("", "Great haircut, friendly staff.", "Choose from 1 to 5 stars."),
        ("4", "Good", "Write 10 to 2000 characters about your experience (now 4)."),
        ("4", "x" * 2001, "(now 2001)"),
    ],
)
async def test_invalid_reviews_get_clear_messages(client, db, shop, rating, body, message):
    await make_user(db, "aline@example.rw")
    token = await as_user(client, "aline@example.rw")
    response = await write(client, token, rating, body)
    assert response.status_code == 422 and message in response.text
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0


async def test_one_review_per_customer_and_none_by_the_owner(client, db, shop):
    await make_user(db, "aline@example.rw")
    token = await as_user(client, "aline@example.rw")
    assert (await write(client, token)).status_code == 303
    again = await write(client, token, "1", "Changed my mind completely about this place.")
    assert again.status_code == 409 and "You have already reviewed this business." in again.text
    token = await as_user(client, "owner@example.rw")
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "This is your business" in page and 'name="rating"' not in page
    own = await write(client, token, "5", "The best salon in Kigali, I promise you!")
    assert own.status_code == 403 and "You cannot review your own business." in own.text
    assert await db.fetchval("SELECT count(*) FROM reviews") == 1


async def test_anonymous_posts_are_sent_to_log_in(client, db, shop):
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    response = await write(client, token)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0


async def add_review(db, business_id: int, user_id: int, rating: int, body: str, status: str = "pending") -> int:
    return await db.fetchval(
        "INSERT INTO reviews (business_id, user_id, rating, body, status) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        business_id,
        user_id,
        rating,
        body,
        status,
    )


async def test_an_admin_publishes_or_rejects_and_the_rating_follows(client, db, shop):
    await make_user(db, "admin@example.rw", "admin")
    good = await add_review(db, shop["id"], await make_user(db, "a@example.rw"), 5, "<script>alert(1)</script> top")
    bad = await add_review(db, shop["id"], await make_user(db, "b@example.rw"), 1, "Spam spam spam spam spam")
    third = await add_review(db, shop["id"], await make_user(db, "c@example.rw", name="Eric"), 4, "Very good work")
    token = await as_user(client, "admin@example.rw")
    queue = (await client.get("/admin/reviews", headers=HTML)).text
    assert "Spam spam" in queue and "Keza Salon" in queue
    for review_id, decision in ((good, "approve"), (bad, "reject"), (third, "approve")):
        response = await client.post(
            f"/admin/reviews/{review_id}", data={"_csrf_token": token, "decision": decision}, headers=HTML
        )
        assert response.status_code == 200
    business = await db.fetchrow("SELECT average_rating, review_count FROM businesses WHERE id = $1", shop["id"])
    assert business["review_count"] == 2 and business["average_rating"] == Decimal("4.50")
    client.cookies.clear()
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "2 reviews" in page and "Very good work" in page and "Spam spam" not in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; top" in page
    assert "Aline U." in page and "Eric" in page  # first name and initial only
    mails = await db.fetch("SELECT * FROM email_outbox WHERE kind = 'review_published' ORDER BY id")
    assert len(mails) == 2 and {m["to_address"] for m in mails} == {"owner@example.rw"}
    assert mails[0]["language"] == "fr" and f"/dashboard/{shop['id']}/reviews" in mails[0]["body_text"]
    # Each reviewer learns the decision, once, in their own language.
    told = await db.fetch(
        """SELECT kind, to_address, subject FROM email_outbox
           WHERE kind IN ('review_approved', 'review_rejected') ORDER BY id"""
    )
    assert [(m["kind"], m["to_address"]) for m in told] == [
        ("review_approved", "a@example.rw"),
        ("review_rejected", "b@example.rw"),
        ("review_approved", "c@example.rw"),
    ]
    assert told[1]["subject"] == "Your review of Keza Salon was not published"
    bad_decision = await client.post(f"/admin/reviews/{good}", data={"decision": "maybe"}, headers=HTML)
    assert bad_decision.status_code == 403  # no CSRF token: refused before anything else


async def test_only_administrators_see_the_moderation_queue(client, db, shop):
    await make_user(db, "aline@example.rw")
    review = await add_review(db, shop["id"], await make_user(db, "b@example.rw"), 2, "Not great at all, sorry")
    assert (await client.get("/admin/reviews", headers=HTML, follow_redirects=False)).status_code == 303
    token = await as_user(client, "aline@example.rw")
    assert (await client.get("/admin/reviews", headers=HTML)).status_code == 404
    response = await client.post(f"/admin/reviews/{review}", data={"_csrf_token": token, "decision": "approve"})
    assert response.status_code == 404
    assert await db.fetchval("SELECT status FROM reviews WHERE id = $1", review) == "pending"


async def test_the_owner_answers_a_review_once_publicly(client, db, shop, invalidate_route):
    review = await add_review(
        db, shop["id"], await make_user(db, "a@example.rw"), 3, "Good but slow service.", "approved"
    )
    token = await as_user(client, "owner@example.rw")
    page = (await client.get(f"/dashboard/{shop['id']}/reviews", headers=HTML)).text
    assert "Good but slow service." in page and "Answer publicly (once)" in page
    url = f"/dashboard/{shop['id']}/reviews/{review}/reply"
    empty = await client.post(url, data={"_csrf_token": token, "reply": " "}, headers=HTML)
    assert empty.status_code == 422 and "Write a reply of 2 to 2000 characters." in empty.text
    done = await client.post(
        url, data={"_csrf_token": token, "reply": "Sorry, we hired a second barber."}, headers=HTML
    )
    assert done.status_code == 200 and "Your answer is published under the review." in done.text
    second = await client.post(url, data={"_csrf_token": token, "reply": "Another answer"}, headers=HTML)
    assert second.status_code == 409 and "You have already answered this review." in second.text
    assert await db.fetchval("SELECT owner_reply FROM reviews") == "Sorry, we hired a second barber."
    client.cookies.clear()
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "Answer from the business" in page and "Sorry, we hired a second barber." in page


async def test_all_reviews_page_through(client, db, shop):
    for i in range(25):
        user = await make_user(db, f"u{i}@example.rw")
        await add_review(db, shop["id"], user, 1 + i % 5, f"Review number {i:02d} of the salon", "approved")
    await db.execute("UPDATE businesses SET review_count = 25 WHERE id = $1", shop["id"])
    first = (await client.get("/b/keza-salon/reviews", headers=HTML)).text
    assert "Review number 24" in first and "Review number 04" not in first and "page=2" in first
    second = (await client.get("/b/keza-salon/reviews?page=2", headers=HTML)).text
    assert "Review number 04" in second and "Review number 00" in second
    assert (await client.get("/b/nobody/reviews", headers=HTML)).status_code == 404


async def test_the_admin_overview_shows_pending_reviews_and_email_delivery(client, db, shop):
    await make_user(db, "admin@example.rw", "admin")
    await add_review(db, shop["id"], await make_user(db, "a@example.rw"), 4, "Waiting for a moderator here")
    for provider, status in [("sendgrid", "sent"), ("sendgrid", "sent"), ("ses", "sent"), ("ses", "dead")]:
        await db.execute(
            """INSERT INTO email_outbox (to_address, subject, body_text, status, provider)
               VALUES ('x@example.rw', 'Hello', 'Hello', $1, $2)""",
            status,
            provider,
        )
    await as_user(client, "admin@example.rw")
    page = (await client.get("/admin", headers=HTML)).text
    assert "Reviews waiting for moderation</a>: 1" in page
    rows = {m[0]: m[1:] for m in re.findall(r'<th scope="row">(\w+)</th><td>(\d+)</td><td>(\d+)</td>', page)}
    assert rows == {"All": ("3", "1"), "sendgrid": ("2", "0"), "ses": ("1", "1")}
    assert "75.0 %" in page and "100.0 %" in page and "50.0 %" in page


async def test_an_operator_makes_an_account_administrator_from_the_command_line(db):
    import asyncio
    import subprocess
    import sys
    from pathlib import Path

    await make_user(db, "moderator@example.rw")
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    done = await asyncio.to_thread(
        subprocess.run, [servicerw, "make-admin", "Moderator@example.rw"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert await db.fetchval("SELECT role FROM users WHERE email = 'moderator@example.rw'") == "admin"
    unknown = await asyncio.to_thread(
        subprocess.run, [servicerw, "make-admin", "nobody@example.rw"], capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "no account with the email nobody@example.rw" in unknown.stderr
