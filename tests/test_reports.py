"""Abuse reports: a "Report" link on every public listing and published review, a form that works with and
without JavaScript (reasons, limits, throttled per address with the text kept), and the operators' queue that
hides the review (rating and count follow at once), suspends the listing (it leaves search) or dismisses."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in

HASH = PasswordHasher().hash(STRONG)
HTMX = {**HTML, "hx-request": "true"}

pytestmark = pytest.mark.usefixtures("fresh_limits")  # log-in and report counters start from zero


async def make_user(db, email: str, role: str = "customer", name: str = "Aline Uwase") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ($1, $2, $3, $4, 'en', true) RETURNING id""",
        email,
        name,
        HASH,
        role,
    )


async def add_review(db, business_id: int, user_id: int, rating: int, body: str, status: str = "approved") -> int:
    review_id = await db.fetchval(
        "INSERT INTO reviews (business_id, user_id, rating, body, status) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        business_id,
        user_id,
        rating,
        body,
        status,
    )
    await db.execute(
        """UPDATE businesses b SET average_rating = a.avg, review_count = a.n
           FROM (SELECT coalesce(round(avg(rating), 2), 0) AS avg, count(*) AS n FROM reviews
                 WHERE business_id = $1 AND status = 'approved') a WHERE b.id = $1""",
        business_id,
    )
    return review_id


@pytest.fixture
async def shop(db):
    owner_id = await make_user(db, "owner@example.rw", "owner", "Jean Habimana")
    return await make_business(db, business_name="Keza Salon", slug="keza-salon", owner_id=owner_id)


@pytest.fixture
async def reviewed(db, shop):
    """Keza Salon with a 5-star and a 1-star published review (average 3.0)."""
    good = await add_review(db, shop["id"], await make_user(db, "a@example.rw", name="Eric Mugisha"), 5, "Great cut")
    bad = await add_review(
        db, shop["id"], await make_user(db, "b@example.rw", name="Spam Bot"), 1, "Buy cheap phones at spam.example"
    )
    return {"shop": shop, "good": good, "bad": bad}


def token_of(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def form_token(client, path: str) -> str:
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200, page.status_code
    return token_of(page.text)


async def send(client, path: str, token: str, reason="spam", details="", headers=HTML, **extra):
    return await client.post(
        path,
        data={"_csrf_token": token, "reason": reason, "details": details, **extra},
        headers=headers,
        follow_redirects=False,
    )


async def as_user(client, email: str) -> str:
    """Log in; returns a CSRF token for the next forms."""
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303
    return await form_token(client, "/account")


async def as_admin(client, db, email: str = "admin@example.rw") -> str:
    await make_user(db, email, "admin", "Olivier Operator")
    return await as_user(client, email)


# --- the visitor's side ---------------------------------------------------------------------------


async def test_every_profile_and_review_has_a_report_link(client, db, reviewed):
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert 'href="/b/keza-salon/report"' in page and "Report this listing" in page
    for review_id in (reviewed["good"], reviewed["bad"]):
        assert f'href="/b/keza-salon/reviews/{review_id}/report"' in page
    all_reviews = (await client.get("/b/keza-salon/reviews", headers=HTML)).text
    assert f'href="/b/keza-salon/reviews/{reviewed["bad"]}/report"' in all_reviews
    form = (await client.get(f"/b/keza-salon/reviews/{reviewed['bad']}/report", headers=HTML)).text
    assert "Report a review" in form and "Buy cheap phones" in form and 'name="_csrf_token"' in form
    for label in (
        "Spam or advertising",
        "Wrong information",
        "Offensive or abusive",
        "Fraud or scam",
        "Closed or does not exist",
        "Something else",
    ):
        assert label in form


async def test_an_anonymous_visitor_reports_a_listing_without_javascript(client, db, shop):
    token = await form_token(client, "/b/keza-salon/report")
    response = await send(client, "/b/keza-salon/report", token, "closed", "  The shop closed in March.  ")
    assert response.status_code == 303 and response.headers["location"] == "/b/keza-salon/report/sent"
    thanks = await client.get(response.headers["location"], headers=HTML)
    assert (
        thanks.status_code == 200 and "Thank you for your report" in thanks.text and "Back to Keza Salon" in thanks.text
    )
    row = await db.fetchrow("SELECT * FROM reports")
    assert (row["kind"], row["business_id"], row["review_id"], row["reason"]) == (
        "business",
        shop["id"],
        None,
        "closed",
    )
    assert row["details"] == "The shop closed in March." and row["reporter_id"] is None and row["status"] == "open"
    assert "session" not in response.cookies  # no session for an anonymous visitor


async def test_a_logged_in_customer_reports_a_review_with_htmx(client, db, reviewed):
    customer = await make_user(db, "c@example.rw")
    await as_user(client, "c@example.rw")
    path = f"/b/keza-salon/reviews/{reviewed['bad']}/report"
    page = (await client.get(path, headers=HTML)).text
    assert f'hx-post="{path}"' in page and 'hx-target="#report"' in page
    response = await send(client, path, token_of(page), "spam", "Advertising", headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert 'id="report"' in response.text and "Thank you for your report" in response.text
    row = await db.fetchrow("SELECT * FROM reports")
    assert (row["kind"], row["review_id"], row["reporter_id"]) == ("review", reviewed["bad"], customer)


@pytest.mark.parametrize(
    "reason, details, message",
    [
        ("", "Something", "Choose what is wrong."),
        ("bogus", "Something", "Choose what is wrong."),
        ("other", "short", "Say in a few words what is wrong (at least 10 characters)."),
        ("spam", "x" * 1001, "Write at most 1000 characters (now 1001)."),
        ("spam", "nul \x00 byte", "Remove the invisible control characters from the text."),
    ],
)
async def test_invalid_reports_get_clear_messages_and_keep_the_text(client, db, shop, reason, details, message):
    token = await form_token(client, "/b/keza-salon/report")
    for headers in (HTML, HTMX):
        response = await send(client, "/b/keza-salon/report", token, reason, details, headers=headers)
        assert response.status_code == 422 and message in response.text
        if "\x00" not in details:
            assert details[:50] in response.text
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


async def test_a_report_without_csrf_token_is_refused(client, db, shop):
    await client.get("/b/keza-salon/report", headers=HTML)
    response = await client.post("/b/keza-salon/report", data={"reason": "spam"}, headers=HTML)
    assert response.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


async def test_reports_are_throttled_per_address_with_a_clear_message(client, db, reviewed):
    token = await form_token(client, "/b/keza-salon/report")
    for i in range(5):
        path = "/b/keza-salon/report" if i % 2 else f"/b/keza-salon/reviews/{reviewed['bad']}/report"
        assert (await send(client, path, token, "spam", f"report {i}")).status_code == 303
    for headers in (HTML, HTMX):
        response = await send(client, "/b/keza-salon/report", token, "fraud", "They took my deposit.", headers=headers)
        assert response.status_code == 429
        assert "Many reports were sent from here in the last hour" in response.text
        assert "They took my deposit." in response.text and 'value="fraud" checked' in response.text
    assert await db.fetchval("SELECT count(*) FROM reports") == 5


async def test_the_honeypot_stores_nothing(client, db, shop):
    token = await form_token(client, "/b/keza-salon/report")
    response = await send(client, "/b/keza-salon/report", token, "spam", "", website="http://spam.example")
    assert response.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


async def test_only_public_listings_and_published_reviews_can_be_reported(client, db, reviewed):
    shop = reviewed["shop"]
    pending = await add_review(db, shop["id"], await make_user(db, "p@example.rw"), 2, "Pending one", "pending")
    other = await make_business(db, business_name="Other", slug="other-shop")
    hidden = await make_business(db, business_name="Hidden", slug="hidden-shop", status="pending")
    token = await form_token(client, "/b/keza-salon/report")
    paths = [
        "/b/nobody/report",
        f"/b/{hidden['slug']}/report",
        f"/b/keza-salon/reviews/{pending}/report",
        f"/b/{other['slug']}/reviews/{reviewed['bad']}/report",  # a review of another business
        "/b/keza-salon/reviews/999999/report",
        f"/b/keza-salon/reviews/{2**31}/report",
        f"/b/keza-salon/reviews/{2**63}/report",
        "/b/keza-salon/reviews/0/report",
        "/b/" + "x" * 300 + "/report",
    ]
    for path in paths:
        assert (await client.get(path, headers=HTML)).status_code == 404, path
        assert (await send(client, path, token)).status_code == 404, path
    assert (await client.get("/b/keza-salon/reviews/-1/report", headers=HTML)).status_code in (400, 404)
    # NUL in a path is refused at the edge (core/security.input_guard), for every route
    assert (await client.get("/b/keza%00salon/report", headers=HTML)).status_code == 400
    assert (await send(client, "/b/keza%00salon/report", token)).status_code == 400
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


# --- the operators' queue -------------------------------------------------------------------------


async def report(db, shop_id: int, review_id: int | None = None, reason="spam", details="", ago="1 hour") -> int:
    return await db.fetchval(
        """INSERT INTO reports (kind, business_id, review_id, reason, details, created_at)
           VALUES ($1, $2, $3, $4, $5, now() - $6::text::interval) RETURNING id""",
        "review" if review_id else "business",
        shop_id,
        review_id,
        reason,
        details,
        ago,
    )


async def test_only_operators_see_the_queue(client, db, reviewed):
    report_id = await report(db, reviewed["shop"]["id"], reviewed["bad"])
    assert (await client.get("/admin/reports", headers=HTML, follow_redirects=False)).status_code == 303
    token = await as_user(client, "a@example.rw")
    for path in ("/admin/reports", f"/admin/reports/{report_id}"):
        assert (await client.get(path, headers=HTML)).status_code == 404
    response = await client.post(
        f"/admin/reports/{report_id}", data={"_csrf_token": token, "action": "hide"}, headers=HTML
    )
    assert response.status_code == 404
    assert await db.fetchval("SELECT status FROM reports") == "open"
    assert await db.fetchval("SELECT status FROM reviews WHERE id = $1", reviewed["bad"]) == "approved"


async def test_the_queue_lists_open_reports_oldest_first_with_counts_and_a_kind_filter(client, db, reviewed):
    shop_id = reviewed["shop"]["id"]
    await report(db, shop_id, reviewed["bad"], "spam", "newest about the review", "1 hour")
    await report(db, shop_id, None, "closed", "oldest about the listing", "3 days")
    await report(db, shop_id, reviewed["good"], "offensive", "middle about a review", "1 day")
    done = await report(db, shop_id, None, "fraud", "already handled", "5 days")
    await db.execute(
        "UPDATE reports SET status = 'resolved', resolution = 'dismissed', resolved_at = now() WHERE id = $1", done
    )
    await as_admin(client, db)
    home = (await client.get("/admin", headers=HTML)).text
    assert "Reports to check (3)" in home and 'href="/admin/reports"' in home and 'href="/admin/users"' in home
    queue = (await client.get("/admin/reports", headers=HTML)).text
    assert (
        "Open (3)" in queue and "Resolved (1)" in queue and "Reviews (2 open)" in queue and "Listings (1 open)" in queue
    )
    order = [queue.index(t) for t in ("oldest about the listing", "middle about a review", "newest about the review")]
    assert order == sorted(order) and "already handled" not in queue
    reviews_only = (await client.get("/admin/reports?kind=review", headers=HTML)).text
    assert "oldest about the listing" not in reviews_only and "newest about the review" in reviews_only
    resolved = (await client.get("/admin/reports?status=resolved", headers=HTML)).text
    assert "already handled" in resolved and "newest about the review" not in resolved
    junk = await client.get("/admin/reports?status=x%00&kind=%00", headers=HTML)
    assert junk.status_code == 200


async def test_hiding_a_review_recomputes_the_rating_and_the_profile_shows_it_at_once(client, db, reviewed):
    shop_id = reviewed["shop"]["id"]
    first = await report(db, shop_id, reviewed["bad"], "spam", "Advertising phones", "2 hours")
    second = await report(db, shop_id, reviewed["bad"], "offensive", "", "1 hour")
    unrelated = await report(db, shop_id, reviewed["good"], "wrong_info", "", "1 hour")
    page = (await client.get("/b/keza-salon", headers=HTML)).text  # now cached
    assert "2 reviews" in page and "3.0" in page and "Buy cheap phones" in page
    token = await as_admin(client, db)
    admin_id = await db.fetchval("SELECT id FROM users WHERE email = 'admin@example.rw'")
    detail = (await client.get(f"/admin/reports/{first}", headers=HTML)).text
    assert "Buy cheap phones" in detail and "Advertising phones" in detail and "anonymous visitor" in detail
    assert "Hide the review" in detail and "Also resolve the 1 other open report about this review" in detail
    response = await client.post(
        f"/admin/reports/{first}",
        data={"_csrf_token": token, "action": "hide", "note": "advertising", "same_target": "1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/reports?done=hidden&n=2"
    assert "2 reports resolved." in (await client.get(response.headers["location"], headers=HTML)).text
    business = await db.fetchrow("SELECT average_rating, review_count FROM businesses WHERE id = $1", shop_id)
    assert business["review_count"] == 1 and business["average_rating"] == Decimal("5.00")
    assert await db.fetchval("SELECT status FROM reviews WHERE id = $1", reviewed["bad"]) == "hidden"
    rows = {r["id"]: r for r in await db.fetch("SELECT * FROM reports")}
    for report_id in (first, second):
        row = rows[report_id]
        assert (row["status"], row["resolution"], row["resolved_by_id"]) == ("resolved", "hidden", admin_id)
        assert row["resolved_at"] is not None
    assert rows[unrelated]["status"] == "open"
    entries = await db.fetch("SELECT action, target_type, target_id, before, after FROM audit_log ORDER BY id")
    assert [(e["action"], e["target_type"], e["target_id"]) for e in entries] == [
        ("review.hide", "review", reviewed["bad"]),
        ("report.resolve", "report", first),
        ("report.resolve", "report", second),
    ]
    client.cookies.clear()
    page = (await client.get("/b/keza-salon", headers=HTML)).text
    assert "Buy cheap phones" not in page and "1 review" in page and "5.0" in page
    assert "Buy cheap phones" not in (await client.get("/b/keza-salon/reviews", headers=HTML)).text
    assert (await client.get(f"/b/keza-salon/reviews/{reviewed['bad']}/report", headers=HTML)).status_code == 404


async def test_suspending_the_listing_through_a_report_removes_it_from_search(client, db, reviewed):
    shop_id = reviewed["shop"]["id"]
    report_id = await report(db, shop_id, None, "fraud", "Takes deposits and disappears")
    assert "Keza Salon" in (await client.get("/search?q=keza", headers=HTML)).text
    token = await as_admin(client, db)
    url = f"/admin/reports/{report_id}"
    no_reason = await client.post(url, data={"_csrf_token": token, "action": "suspend"}, headers=HTML)
    assert no_reason.status_code == 422 and "Give the reason for suspending the listing" in no_reason.text
    assert await db.fetchval("SELECT status FROM businesses WHERE id = $1", shop_id) == "approved"
    response = await client.post(
        url,
        data={"_csrf_token": token, "action": "suspend", "note": "Fraud reported by customers"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    business = await db.fetchrow("SELECT status, status_reason FROM businesses WHERE id = $1", shop_id)
    assert (business["status"], business["status_reason"]) == ("suspended", "Fraud reported by customers")
    assert await db.fetchval("SELECT resolution FROM reports WHERE id = $1", report_id) == "suspended"
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["business.suspend", "report.resolve"]
    client.cookies.clear()
    assert "Keza Salon" not in (await client.get("/search?q=keza", headers=HTML)).text
    assert (await client.get("/b/keza-salon", headers=HTML)).status_code in (404, 410)


async def test_dismissing_leaves_the_review_and_resolving_twice_is_refused(client, db, reviewed):
    report_id = await report(db, reviewed["shop"]["id"], reviewed["good"], "offensive", "I just dislike it")
    token = await as_admin(client, db)
    url = f"/admin/reports/{report_id}"
    response = await client.post(
        url,
        data={"_csrf_token": token, "action": "dismiss", "note": "fair review"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = await db.fetchrow("SELECT status, resolution, resolution_note FROM reports")
    assert tuple(row) == ("resolved", "dismissed", "fair review")
    assert await db.fetchval("SELECT status FROM reviews WHERE id = $1", reviewed["good"]) == "approved"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'report.resolve'") == 1
    again = await client.post(url, data={"_csrf_token": token, "action": "hide"}, headers=HTML)
    assert again.status_code == 409 and "This report was already resolved." in again.text
    assert await db.fetchval("SELECT status FROM reviews WHERE id = $1", reviewed["good"]) == "approved"
    page = (await client.get(url, headers=HTML)).text
    assert "Resolved: dismissed" in page and "fair review" in page and "Hide the review" not in page


async def test_a_listing_report_cannot_hide_a_review(client, db, reviewed):
    report_id = await report(db, reviewed["shop"]["id"], None, "spam")
    token = await as_admin(client, db)
    response = await client.post(
        f"/admin/reports/{report_id}", data={"_csrf_token": token, "action": "hide"}, headers=HTML
    )
    assert response.status_code == 422 and "Only a report about a review can hide a review." in response.text
    assert await db.fetchval("SELECT status FROM reports") == "open"


async def test_bad_input_in_the_console_gets_a_clear_4xx(client, db, reviewed):
    report_id = await report(db, reviewed["shop"]["id"], reviewed["bad"])
    token = await as_admin(client, db)
    for path in ("/admin/reports/999999", f"/admin/reports/{2**31}", f"/admin/reports/{2**63}", "/admin/reports/0"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
        response = await client.post(path, data={"_csrf_token": token, "action": "dismiss"}, headers=HTML)
        assert response.status_code == 404, path
    url = f"/admin/reports/{report_id}"
    assert (await client.post(url, data={"_csrf_token": token, "action": "burn"}, headers=HTML)).status_code == 400
    nul = await client.post(url, data={"_csrf_token": token, "action": "dismiss", "note": "a\x00b"}, headers=HTML)
    assert nul.status_code == 422 and "without control characters" in nul.text
    assert (await client.get("/admin/reports?page=0", headers=HTML)).status_code == 400
    assert await db.fetchval("SELECT status FROM reports") == "open"
