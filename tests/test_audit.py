"""The audit log: every operator action is written with who, what, when and the values before and after,
in the action's own transaction, and operators read it back filtered at /admin/audit."""

from __future__ import annotations

import json
import re

import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero
HASH = PasswordHasher().hash(STRONG)


async def make_user(db, email: str, role: str = "customer") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ($1, 'Operator Test', $2, $3, 'en', true) RETURNING id""",
        email,
        HASH,
        role,
    )


async def as_user(client, email: str) -> None:
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303


async def entry(db, actor_id, action, target_type, target_id, before, after, when="now()", note="") -> None:
    await db.execute(
        f"""INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after, note, created_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, {when})""",
        actor_id,
        action,
        target_type,
        target_id,
        json.dumps(before),
        json.dumps(after),
        note,
    )


def rows(page: str) -> int:
    return len(re.findall(r"<tr>\s*<td>", page))


async def test_publishing_a_review_is_logged_with_the_operator_and_before_after(client, db):
    admin = await make_user(db, "moderator@example.rw", "admin")
    customer = await make_user(db, "customer@example.rw")
    business = await make_business(db, business_name="Keza Salon", slug="keza-salon")
    review = await db.fetchval(
        """INSERT INTO reviews (business_id, user_id, rating, body, status)
           VALUES ($1, $2, 5, 'Great haircut and friendly staff.', 'pending') RETURNING id""",
        business["id"],
        customer,
    )
    await as_user(client, "moderator@example.rw")
    page = (await client.get("/admin/reviews", headers=HTML)).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    response = await client.post(
        f"/admin/reviews/{review}", data={"_csrf_token": token, "decision": "approve"}, headers=HTML
    )
    assert response.status_code == 200

    logged = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'review.approve'")
    assert logged["actor_id"] == admin and logged["target_type"] == "review" and logged["target_id"] == review
    assert json.loads(logged["before"]) == {"status": "pending"} and json.loads(logged["after"]) == {
        "status": "approved"
    }
    page = (await client.get("/admin/audit", headers=HTML)).text
    assert "review.approve" in page and "moderator@example.rw" in page
    assert "pending → approved" in page


async def test_operators_filter_the_log_by_action_operator_target_and_days(client, db):
    first = await make_user(db, "first@example.rw", "admin")
    second = await make_user(db, "second@example.rw", "admin")
    await entry(db, first, "business.suspend", "business", 7, {"status": "approved"}, {"status": "suspended"})
    await entry(db, second, "business.reactivate", "business", 7, {"status": "suspended"}, {"status": "approved"})
    await entry(db, second, "review.reject", "review", 3, {"status": "pending"}, {"status": "rejected"})
    await entry(
        db, first, "business.approve", "business", 9, {}, {"status": "approved"}, when="'2026-01-15T10:00:00+02'"
    )
    await as_user(client, "first@example.rw")

    everything = (await client.get("/admin/audit", headers=HTML)).text
    assert rows(everything) == 4
    by_action = (await client.get("/admin/audit?action=business.suspend", headers=HTML)).text
    assert rows(by_action) == 1 and "approved → suspended" in by_action
    by_operator = (await client.get("/admin/audit?actor=second@example.rw", headers=HTML)).text
    assert rows(by_operator) == 2 and "first@example.rw" not in by_operator.split("<table", 1)[1]
    history = (await client.get("/admin/audit?target_type=business&target_id=7", headers=HTML)).text
    assert rows(history) == 2
    january = (await client.get("/admin/audit?since=2026-01-01&until=2026-01-31", headers=HTML)).text
    assert rows(january) == 1 and "business.approve" in january.split("<table", 1)[1]
    nothing = (await client.get("/admin/audit?action=user.deactivate", headers=HTML)).text
    assert rows(nothing) == 0 and "No operator action matches." in nothing


async def test_the_log_pages_through_newest_first(client, db):
    admin = await make_user(db, "moderator@example.rw", "admin")
    for n in range(55):
        when = f"now() - interval '{n} minutes'"
        await entry(db, admin, "review.approve", "review", n + 1, {"status": "pending"}, {"status": "approved"}, when)
    await as_user(client, "moderator@example.rw")
    first = (await client.get("/admin/audit", headers=HTML)).text
    assert rows(first) == 50 and "Next page" in first
    assert first.index("review 1<") < first.index("review 2<")  # newest first
    second = (await client.get("/admin/audit?page=2", headers=HTML)).text
    assert rows(second) == 5 and "Previous page" in second and "Next page" not in second


async def test_only_operators_read_the_log_and_bad_filters_get_a_clear_400(client, db):
    await make_user(db, "customer@example.rw")
    await make_user(db, "moderator@example.rw", "admin")
    anonymous = await client.get("/admin/audit", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/account/login?next=/admin/audit")
    await as_user(client, "customer@example.rw")
    assert (await client.get("/admin/audit", headers=HTML)).status_code == 404
    await as_user(client, "moderator@example.rw")
    for query in (
        f"target_id={2**31}",
        "target_id=abc",
        "actor=a%00b@example.rw",
        "action=business%00x",
        "since=2026-02-01&until=2026-01-01",
        "since=yesterday",
    ):
        response = await client.get(f"/admin/audit?{query}", headers=HTML)
        assert response.status_code == 400, query
        # NUL is refused at the edge, for every route, with its own message
        expected = "control characters" if "%00" in query else "Some of the values sent are not valid."
        assert expected in response.text
