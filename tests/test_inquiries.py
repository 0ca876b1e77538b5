"""Inquiries: the form on every profile, spam defences, one inquiry per idempotency key, the emails in the
same transaction, and the owner's inbox (read, reply by email, statuses, response time)."""

from __future__ import annotations

import re
import uuid

import pytest
from valkey.asyncio import Valkey

from servicerw.settings import get_settings
from tests.factories import make_business
from tests.helpers import HTML, french_owners_shop, log_in

HTMX = {**HTML, "hx-request": "true", "hx-target": "message"}


pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


@pytest.fixture
async def shop(db):
    """An approved business whose owner (an account, French) reads the inbox."""
    return await french_owners_shop(db)


def form_key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


async def inquiry_form(client, slug: str = "amazi-plumbing", **overrides) -> dict:
    page = (await client.get(f"/b/{slug}", headers=HTML)).text
    data = {
        "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1),
        "key": form_key(page),
        "name": "Claudine Mukamana",
        "phone": "0788 555 123",
        "email": "claudine@example.rw",
        "preferred_contact": "phone",
        "message": "My kitchen sink leaks. Can you come on Saturday morning?",
        "website": "",
    }
    data.update(overrides)
    return data


async def send(client, data: dict, headers=HTML, slug: str = "amazi-plumbing"):
    return await client.post(f"/b/{slug}/inquiries", data=data, headers=headers, follow_redirects=False)


async def test_a_customer_sends_an_inquiry_without_javascript_and_both_emails_are_queued(client, db, shop):
    data = await inquiry_form(client)
    response = await send(client, data)
    assert response.status_code == 303
    assert response.headers["location"] == f"/b/amazi-plumbing/inquiries/{data['key']}"
    page = await client.get(response.headers["location"], headers=HTML)
    assert page.status_code == 200
    assert "Your message was sent" in page.text and "Saturday morning" in page.text
    assert "A copy was sent to claudine@example.rw" in page.text
    row = await db.fetchrow("SELECT * FROM customer_inquiries")
    assert row["business_id"] == shop["id"] and row["status"] == "new" and row["language"] == "en"
    assert row["customer_phone"] == "0788 555 123" and str(row["idempotency_key"]) == data["key"]
    emails = {r["kind"]: r for r in await db.fetch("SELECT * FROM email_outbox")}
    assert set(emails) == {"inquiry_business", "inquiry_customer"}
    business_mail, customer_mail = emails["inquiry_business"], emails["inquiry_customer"]
    # The business's email is in its owner's language (French), the customer's in the page's (English).
    assert business_mail["to_address"] == "owner@example.rw" and business_mail["language"] == "fr"
    assert "Nouveau message de Claudine Mukamana" == business_mail["subject"]
    assert f"/dashboard/{shop['id']}/inbox/{row['id']}" in business_mail["body_text"]
    assert "0788 555 123" in business_mail["body_text"] and "Saturday morning" in business_mail["body_text"]
    assert customer_mail["to_address"] == "claudine@example.rw" and customer_mail["language"] == "en"
    assert customer_mail["subject"] == "Your message to Amazi Plumbing was sent"
    assert "<p>" in customer_mail["body_html"] and "Saturday morning" in customer_mail["body_html"]


async def test_the_confirmation_needs_the_right_key(client, db, shop):
    assert (await client.get(f"/b/amazi-plumbing/inquiries/{uuid.uuid4()}", headers=HTML)).status_code == 404
    assert (await client.get("/b/amazi-plumbing/inquiries/not-a-key", headers=HTML)).status_code == 404


async def test_with_htmx_the_form_is_replaced_by_the_confirmation_in_place(client, db, shop):
    data = await inquiry_form(client)
    response = await send(client, data, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="message"' in response.text
    assert "Your message was sent" in response.text
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 1


@pytest.mark.parametrize(
    "override, field, message",
    [
        ({"name": "A"}, "name", "Write your name"),
        ({"phone": "", "email": ""}, "phone", "Give a phone number or an email address"),
        ({"phone": "12ab"}, "phone", "Write a phone number with 9 to 16 digits"),
        ({"email": "not-an-email"}, "email", "Write an email address like"),
        ({"message": "Hi"}, "message", "Write a message of 10 to 2000 characters (now 2)"),
        ({"message": "x" * 2001}, "message", "now 2001"),
        ({"preferred_contact": "pigeon"}, "preferred_contact", "Choose how the business should contact you"),
        ({"key": "garbage"}, "form", "This form has expired"),
    ],
)
async def test_invalid_inquiries_get_a_clear_message_keep_what_was_typed_and_save_nothing(
    client, db, shop, override, field, message
):
    data = await inquiry_form(client, **override)
    for headers in (HTML, HTMX):
        response = await send(client, data, headers=headers)
        assert response.status_code == 422
        assert message in response.text
        if field not in ("form", "message", "preferred_contact"):
            assert 'aria-invalid="true" aria-describedby="e-' + field in response.text
        if field != "message":
            assert "My kitchen sink leaks" in response.text  # what was typed is not lost
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0


async def test_a_filled_honeypot_looks_sent_but_stores_and_sends_nothing(client, db, shop):
    data = await inquiry_form(client, website="http://spam.example")
    response = await send(client, data)
    assert response.status_code == 200 and "Your message was sent" in response.text
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0


async def test_one_device_is_limited_to_five_messages_an_hour(client, db, shop):
    for i in range(5):
        response = await send(client, await inquiry_form(client, message=f"Message number {i} about a leak"))
        assert response.status_code == 303
        assert ("inquiry_device=" in response.headers.get("set-cookie", "")) == (i == 0)  # set once
    response = await send(client, await inquiry_form(client, message="The sixth message within the hour"))
    assert response.status_code == 429
    assert "Too many messages were sent from here" in response.text
    assert "The sixth message within the hour" in response.text  # kept for later
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 5


def new_device(client) -> None:
    """Another phone behind the same carrier address: a browser without our cookies."""
    client.cookies.clear()


async def test_many_customers_behind_one_carrier_address_can_each_send(client, db, shop):
    others = [await make_business(db) for _ in range(2)]  # 10 messages to one business would be fine too
    first = await send(client, await inquiry_form(client, message="The first customer writes about a leak"))
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("inquiry_device=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    for i in range(1, 10):
        new_device(client)
        slug = (shop["slug"], others[0]["slug"], others[1]["slug"])[i % 3]
        data = await inquiry_form(client, slug, message=f"Customer number {i} needs a plumber today")
        assert (await send(client, data, slug=slug)).status_code == 303, i
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 10
    # The last device sends 4 more (5 in all), then it is the one refused; a new phone still may.
    for i in range(4):
        assert (await send(client, await inquiry_form(client, message=f"Again, message {i} today"))).status_code == 303
    refused = await send(client, await inquiry_form(client, message="One message too many from this phone"))
    assert refused.status_code == 429 and "One message too many from this phone" in refused.text
    new_device(client)
    assert (await send(client, await inquiry_form(client, message="Another customer, same address"))).status_code == 303


async def test_a_forged_device_cookie_counts_as_a_new_device_and_the_address_ceiling_holds(client, db, shop):
    assert (await send(client, await inquiry_form(client))).status_code == 303
    valkey = Valkey.from_url(get_settings().valkey.url)
    [address_key] = await valkey.keys("SERVICERW_inquiry_limits:addr:*")
    await valkey.set(address_key, "60", ex=3600)  # 60 created from this address this hour
    await valkey.aclose()
    for cookie in ("", "made-up.0123456789abcdef0123456789abcdef"):
        new_device(client)
        data = await inquiry_form(client, message="Yet another phone behind the address")
        if cookie:
            client.cookies.set("inquiry_device", cookie)
        response = await send(client, data)
        assert response.status_code == 429 and "Too many messages were sent from here" in response.text
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 1


@pytest.mark.parametrize(
    "phone, email, chosen, expected",
    [
        ("", "claudine@example.rw", "", "email"),
        ("", "claudine@example.rw", "phone", "email"),  # the form's hint: a phone, an email, or both
        ("", "claudine@example.rw", "whatsapp", "email"),
        ("0788 555 123", "", "", "phone"),
        ("0788 555 123", "", "email", "phone"),
        ("0788 555 123", "", "whatsapp", "whatsapp"),
        ("0788 555 123", "claudine@example.rw", "email", "email"),
        ("0788 555 123", "claudine@example.rw", "", "phone"),
    ],
)
async def test_the_contact_method_follows_what_the_customer_filled_in(client, db, shop, phone, email, chosen, expected):
    data = await inquiry_form(client, phone=phone, email=email, preferred_contact=chosen)
    response = await send(client, data)
    assert response.status_code == 303, response.text
    assert await db.fetchval("SELECT preferred_contact FROM customer_inquiries") == expected


async def test_the_fresh_form_chooses_no_contact_method_for_the_customer(client, db, shop):
    page = (await client.get("/b/amazi-plumbing", headers=HTML)).text
    form = page[page.index('id="message"') :]
    assert 'name="preferred_contact"' in form and " checked" not in form[: form.index("</fieldset>")]


async def test_without_javascript_a_failed_message_starts_the_page_with_a_focused_error_summary(client, db, shop):
    data = await inquiry_form(client, name="A", email="not-an-email", message="Hi")
    page = (await send(client, data)).text
    summary = page[page.index('class="error-summary"') : page.index("</div>", page.index('class="error-summary"'))]
    assert page.index('class="error-summary"') < page.index("<h1")  # at the top of the page, above the profile
    assert 'role="alert"' in page[page.index('class="error-summary"') - 200 : page.index('class="error-summary"') + 200]
    assert "The message was not sent" in summary
    links = re.findall(r'<a href="#([\w-]+)"( autofocus)?>([^<]+)</a>', summary)
    assert [(target, focus) for target, focus, _text in links] == [
        ("f-name", " autofocus"),
        ("f-email", ""),
        ("f-message", ""),
    ]
    for target, _focus, _text in links:
        assert f'id="{target}"' in page
    assert page.count("autofocus") == 1
    assert 'value="not-an-email"' in page  # the customer's text is kept
    # With htmx the swapped form starts with the same summary.
    fragment = (await send(client, data, headers=HTMX)).text
    assert fragment.index('id="message"') < fragment.index('class="error-summary"') < fragment.index("<form")


async def test_inquiries_are_limited_per_business(client, db, shop):
    other = await make_business(db)
    valkey = Valkey.from_url(get_settings().valkey.url)
    await valkey.set(f"SERVICERW_inquiry_limits:biz:{shop['id']}", "30", ex=3600)  # 30 received this hour
    await valkey.aclose()
    response = await send(client, await inquiry_form(client))
    assert response.status_code == 429
    response = await send(client, await inquiry_form(client, other["slug"]), slug=other["slug"])
    assert response.status_code == 303  # other businesses are not affected


async def test_limits_keep_working_in_process_when_valkey_is_down(client, db, shop, app, valkey_server):
    from servicerw.core.stores import FailOpenStore
    from servicerw.settings import ValkeySettings

    proc, url = valkey_server
    original = app.stores._stores.get("inquiry_limits")
    app.stores.register("inquiry_limits", FailOpenStore.from_settings(ValkeySettings(url=url)), allow_override=True)
    try:
        proc.kill()
        proc.wait()
        for i in range(5):
            response = await send(client, await inquiry_form(client, message=f"Message number {i} about a leak"))
            assert response.status_code == 303
        assert (await send(client, await inquiry_form(client))).status_code == 429
    finally:
        if original is not None:
            app.stores.register("inquiry_limits", original, allow_override=True)
        else:
            app.stores._stores.pop("inquiry_limits", None)


async def test_a_failed_transaction_leaves_no_inquiry_and_no_email(client, db, shop):
    """The customer's confirmation email cannot be written (a trigger refuses it): the whole transaction rolls
    back, so there is no inquiry, and no email to the business about a message that does not exist."""
    await db.execute(
        """CREATE FUNCTION pg_temp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'refused for the test'; END $$"""
    )
    await db.execute(
        """CREATE TRIGGER refuse_customer_mail BEFORE INSERT ON email_outbox FOR EACH ROW
           WHEN (NEW.kind = 'inquiry_customer') EXECUTE FUNCTION pg_temp_refuse()"""
    )
    try:
        response = await send(client, await inquiry_form(client))
        assert response.status_code == 500
    finally:
        await db.execute("DROP TRIGGER refuse_customer_mail ON email_outbox")
        await db.execute("DROP FUNCTION pg_temp_refuse()")
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0


async def test_only_public_businesses_take_inquiries(client, db, shop):
    data = await inquiry_form(client)
    pending = await make_business(db, status="pending")
    response = await send(client, data, slug=pending["slug"])
    assert response.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0


# --- the owner's inbox ---------------------------------------------------------------------------------


async def add_inquiry(db, business_id: int, name: str, **values) -> int:
    columns = {"customer_name": name, "message": f"Hello from {name}, I need a plumber.", **values}
    return await db.fetchval(
        f"""INSERT INTO customer_inquiries (business_id, {", ".join(columns)})
            VALUES ($1, {", ".join(f"${i}" for i in range(2, len(columns) + 2))}) RETURNING id""",
        business_id,
        *columns.values(),
    )


async def owner_logged_in(client):
    client.cookies.clear()
    assert (await log_in(client, "owner@example.rw")).status_code == 303


async def test_the_inbox_lists_messages_with_unread_count_and_status_filters(client, db, shop):
    await add_inquiry(db, shop["id"], "Alice", customer_email="alice@example.rw")
    await add_inquiry(db, shop["id"], "Bosco", status="replied")
    await add_inquiry(db, shop["id"], "<script>alert(1)</script>", message="<script>alert(2)</script> please")
    await owner_logged_in(client)
    home = (await client.get("/dashboard", headers=HTML)).text
    assert "2 unread" in home
    inbox = await client.get(f"/dashboard/{shop['id']}/inbox", headers=HTML)
    assert inbox.status_code == 200
    assert "2 unread" in inbox.text and "Alice" in inbox.text and "Bosco" in inbox.text
    assert "<script>alert" not in inbox.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox.text
    replied = (await client.get(f"/dashboard/{shop['id']}/inbox?status=replied", headers=HTML)).text
    assert "Bosco" in replied and "Alice" not in replied
    fragment = await client.get(f"/dashboard/{shop['id']}/inbox?status=new", headers={**HTML, "hx-request": "true"})
    assert "<html" not in fragment.text and "Alice" in fragment.text and "Bosco" not in fragment.text
    closed = (await client.get(f"/dashboard/{shop['id']}/inbox?status=closed", headers=HTML)).text
    assert "No messages with this status." in closed


async def test_the_inbox_pages_through_many_messages(client, db, shop):
    for i in range(45):
        await add_inquiry(db, shop["id"], f"Customer {i:02d}")
    await owner_logged_in(client)
    first = (await client.get(f"/dashboard/{shop['id']}/inbox", headers=HTML)).text
    assert "Customer 44" in first and "Customer 24" not in first and "page=2" in first
    third = (await client.get(f"/dashboard/{shop['id']}/inbox?page=3", headers=HTML)).text
    assert "Customer 00" in third and "page=4" not in third


async def test_opening_a_message_marks_it_read_and_the_reply_is_emailed_in_the_customers_language(client, db, shop):
    inquiry_id = await add_inquiry(
        db, shop["id"], "Alice", customer_email="alice@example.rw", language="rw", customer_phone="0788000111"
    )
    await owner_logged_in(client)
    page = await client.get(f"/dashboard/{shop['id']}/inbox/{inquiry_id}", headers=HTML)
    assert page.status_code == 200 and "Hello from Alice" in page.text and "tel:0788000111" in page.text
    assert await db.fetchval("SELECT status FROM customer_inquiries WHERE id = $1", inquiry_id) == "read"
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    url = f"/dashboard/{shop['id']}/inbox/{inquiry_id}/reply"
    short = await client.post(url, data={"_csrf_token": token, "reply": "k"}, headers=HTML)
    assert short.status_code == 422 and "Write a reply of 2 to 4000 characters." in short.text
    response = await client.post(
        url, data={"_csrf_token": token, "reply": "Yes, Saturday at 9. Price 15,000 RWF."}, headers=HTML
    )
    assert response.status_code == 200 and "Your answer was sent by email." in response.text
    row = await db.fetchrow("SELECT * FROM customer_inquiries WHERE id = $1", inquiry_id)
    assert row["status"] == "replied" and row["replied_at"] is not None
    assert row["reply_text"] == "Yes, Saturday at 9. Price 15,000 RWF."
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'inquiry_reply'")
    assert mail["to_address"] == "alice@example.rw" and mail["language"] == "rw"
    assert "Yes, Saturday at 9" in mail["body_text"] and "> Hello from Alice" in mail["body_text"]


async def test_a_customer_without_email_cannot_be_emailed_but_can_be_marked_answered(client, db, shop):
    inquiry_id = await add_inquiry(db, shop["id"], "Bosco", customer_phone="0788000222")
    await owner_logged_in(client)
    page = (await client.get(f"/dashboard/{shop['id']}/inbox/{inquiry_id}", headers=HTML)).text
    assert "left no email address" in page and 'name="reply"' not in page
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    base = f"/dashboard/{shop['id']}/inbox/{inquiry_id}"
    refused = await client.post(f"{base}/reply", data={"_csrf_token": token, "reply": "Hello there"}, headers=HTML)
    assert refused.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0
    for status in ("replied", "closed", "new"):
        response = await client.post(f"{base}/status", data={"_csrf_token": token, "status": status}, headers=HTML)
        assert response.status_code == 200 and "Saved." in response.text  # back on the list
        assert await db.fetchval("SELECT status FROM customer_inquiries WHERE id = $1", inquiry_id) == status
    assert await db.fetchval("SELECT replied_at FROM customer_inquiries WHERE id = $1", inquiry_id) is not None
    bad = await client.post(f"{base}/status", data={"_csrf_token": token, "status": "deleted"}, headers=HTML)
    assert bad.status_code == 400


async def test_the_profile_shows_the_median_response_time(client, db, shop, invalidate_route):
    page = (await client.get("/b/amazi-plumbing", headers=HTML)).text
    assert "Usually replies" not in page  # not enough replies yet
    for minutes in (30, 90, 200, 2000):
        await add_inquiry(
            db,
            shop["id"],
            f"C{minutes}",
            created_at=await db.fetchval("SELECT now() - interval '3 days'"),
            replied_at=await db.fetchval(f"SELECT now() - interval '3 days' + interval '{minutes} minutes'"),
            status="replied",
        )
    await client.post("/__test__/invalidate", json={"slug": "amazi-plumbing"})  # the profile is cached for an hour
    page = (await client.get("/b/amazi-plumbing", headers=HTML)).text
    assert "Usually replies within 3 hours" in page  # median of 30, 90, 200, 2000 minutes = 145 min


async def test_an_inquiry_with_a_script_renders_as_text_on_the_confirmation(client, db, shop):
    data = await inquiry_form(client, message="<script>alert('x')</script> fix my sink")
    response = await send(client, data)
    page = (await client.get(response.headers["location"], headers=HTML)).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    mail = await db.fetchrow("SELECT body_html FROM email_outbox WHERE kind = 'inquiry_business'")
    assert "<script>" not in mail["body_html"] and "&lt;script&gt;" in mail["body_html"]


async def test_csrf_is_required_to_send_an_inquiry(client, db, shop):
    data = await inquiry_form(client)
    data.pop("_csrf_token")
    assert (await send(client, data)).status_code == 403
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
