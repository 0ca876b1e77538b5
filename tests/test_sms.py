"""SMS alerts for owners: the phone number's verification (without JavaScript), the opt-in, the new-message
SMS queued in the inquiry's transaction and sent by the outbox worker through fake Pindo and Africa's
Talking servers (failover), throttling and the daily cap, delivery reports and the opt-out words."""

from __future__ import annotations

import re
from dataclasses import replace

import asyncpg
import pytest

from servicerw.notifications.providers import AfricasTalkingProvider, PindoProvider
from servicerw.notifications.services import OutboxSender
from servicerw.notifications.sms import SmsAlerts, gsm7_length, is_stop_word, normalise_phone, webhook_secret
from servicerw.settings import EmailSettings, SmsSettings, get_settings
from tests.fake_providers import FakeAfricasTalking, FakePindo
from tests.helpers import HTML, csrf, french_owners_shop, log_in

pytestmark = pytest.mark.usefixtures("fresh_limits")

PHONE = "+250788123456"


@pytest.fixture(scope="module")
def pindo():
    fake = FakePindo().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def africastalking():
    fake = FakeAfricasTalking().start()
    yield fake
    fake.stop()


@pytest.fixture
def fakes(pindo, africastalking):
    pindo.reset()
    africastalking.reset()
    return pindo, africastalking


@pytest.fixture
async def pool(email_worker_paused, clean_db):
    pool = await asyncpg.create_pool(clean_db, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def sender(pool, pindo: FakePindo, africastalking: FakeAfricasTalking) -> OutboxSender:
    email = EmailSettings(providers=("log",), timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_max=0.05)
    sms = SmsSettings(
        providers=("pindo", "africastalking"),
        sender="ServiceRW",
        pindo_token=pindo.token,
        pindo_url=pindo.url,
        africastalking_username=africastalking.username,
        africastalking_api_key=africastalking.api_key,
        africastalking_url=africastalking.url,
    )
    return OutboxSender(email, pool=pool, providers=[PindoProvider(email, sms), AfricasTalkingProvider(email, sms)])


@pytest.fixture
async def shop(db):
    """An approved business whose owner (French) is an account that can log in."""
    return await french_owners_shop(db)


async def opted_in(db, user_id: int, phone: str = PHONE) -> None:
    await db.execute(
        "INSERT INTO sms_phones (user_id, phone, verified_at, alerts) VALUES ($1, $2, now(), true)", user_id, phone
    )


async def inquiry_data(client, slug: str = "amazi-plumbing") -> dict:
    page = (await client.get(f"/b/{slug}", headers=HTML)).text
    return {
        "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1),
        "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
        "name": "Claudine Mukamana",
        "phone": "0788 555 123",
        "email": "claudine@example.rw",
        "preferred_contact": "phone",
        "message": "My kitchen sink leaks. Can you come on Saturday morning?",
        "website": "",
    }


async def send_inquiry(client, slug: str = "amazi-plumbing", expect: int = 303):
    data = await inquiry_data(client, slug)
    response = await client.post(f"/b/{slug}/inquiries", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == expect, response.text
    return response


async def post_form(client, path: str, **fields):
    token = await csrf(client, "/dashboard/sms")
    return await client.post(path, data={"_csrf_token": token, **fields}, headers=HTML, follow_redirects=False)


async def sms_rows(db, kind: str | None = None) -> list:
    return await db.fetch(
        "SELECT * FROM email_outbox WHERE channel = 'sms' AND ($1::text IS NULL OR kind = $1) ORDER BY id", kind
    )


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


# --- numbers and words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("078 812 3456", "+250788123456"),
        ("0788123456", "+250788123456"),
        ("+250 788-123-456", "+250788123456"),
        ("250731234567", "+250731234567"),
        ("00250721234567", "+250721234567"),
        ("0791234567", "+250791234567"),
        ("0252123456", None),  # a landline
        ("+254712345678", None),  # Kenya
        ("07881234567", None),
        ("0748123456", None),  # no mobile network on 074
        ("phone", None),
    ],
)
def test_only_rwandan_mobile_numbers_are_accepted_and_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Hagarika ", "HAGARIKA UBUTUMWA", "hagarika  ubutumwa.", "ARRET", "Arrêt"]
)
def test_opt_out_words_in_kinyarwanda_english_and_french(text):
    assert is_stop_word(text)


@pytest.mark.parametrize("text", ["", "stop by tomorrow", "murakoze", "STOPPED"])
def test_other_messages_are_not_opt_outs(text):
    assert not is_stop_word(text)


# --- verification ---------------------------------------------------------------------------------


async def test_an_owner_verifies_a_number_without_javascript_and_turns_alerts_on(client, db, shop, email_worker_paused):
    assert (await log_in(client, "owner@example.rw")).status_code == 303
    page = await client.get("/dashboard/sms", headers=HTML)
    assert page.status_code == 200 and "Rwandan mobile number" in page.text
    assert 'href="/dashboard/sms"' in (await client.get("/dashboard", headers=HTML)).text

    response = await post_form(client, "/dashboard/sms/phone", phone="078 812 3456")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/sms?done=sent"
    (code_sms,) = await sms_rows(db, "sms_code")
    assert code_sms["to_address"] == PHONE and code_sms["status"] == "pending" and code_sms["subject"] == ""
    code = code_in(code_sms["body_text"])
    stored = await db.fetchrow("SELECT * FROM sms_phones")
    assert stored["code_hash"] and code not in stored["code_hash"] and stored["phone"] == ""  # hashed, not verified
    page = await client.get("/dashboard/sms?done=sent", headers=HTML)
    assert "Enter the code sent to +250788123456" in page.text

    wrong = "000000" if code != "000000" else "111111"
    response = await post_form(client, "/dashboard/sms/code", code=wrong)
    assert response.status_code == 422 and "This code is not right" in response.text
    assert 'aria-invalid="true"' in response.text

    response = await post_form(client, "/dashboard/sms/code", code=f"{code[:3]} {code[3:]}")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/sms?done=verified"
    row = await db.fetchrow("SELECT * FROM sms_phones")
    assert row["phone"] == PHONE and row["verified_at"] is not None and not row["alerts"] and row["code_hash"] == ""
    page = await client.get("/dashboard/sms", headers=HTML)
    assert "Your phone: +250788123456" in page.text and "Text me when a customer sends a message" in page.text

    response = await post_form(client, "/dashboard/sms/alerts", alerts="on")
    assert response.status_code == 303
    assert await db.fetchval("SELECT alerts FROM sms_phones") is True
    assert " checked" in (await client.get("/dashboard/sms", headers=HTML)).text
    assert "SMS alerts are on: +250788123456." in (await client.get("/dashboard", headers=HTML)).text
    # Off from the UI: the box unticked (absent from the form).
    response = await post_form(client, "/dashboard/sms/alerts")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/sms?done=off"
    assert await db.fetchval("SELECT alerts FROM sms_phones") is False


async def test_a_number_that_is_not_a_rwandan_mobile_gets_a_clear_message_and_no_sms(client, db, shop):
    await log_in(client, "owner@example.rw")
    response = await post_form(client, "/dashboard/sms/phone", phone="+254 712 345 678")
    assert response.status_code == 422
    assert "Enter a Rwandan mobile number" in response.text and "+254 712 345 678" in response.text
    assert await sms_rows(db) == []


async def test_an_expired_code_is_refused(client, db, shop, email_worker_paused):
    await log_in(client, "owner@example.rw")
    await post_form(client, "/dashboard/sms/phone", phone="0788123456")
    code = code_in((await sms_rows(db, "sms_code"))[0]["body_text"])
    await db.execute("UPDATE sms_phones SET code_expires_at = now() - interval '1 second'")
    response = await post_form(client, "/dashboard/sms/code", code=code)
    assert response.status_code == 422 and "This code has expired" in response.text
    assert await db.fetchval("SELECT phone FROM sms_phones") == ""


async def test_five_wrong_codes_end_the_code(client, db, shop, email_worker_paused):
    await log_in(client, "owner@example.rw")
    await post_form(client, "/dashboard/sms/phone", phone="0788123456")
    code = code_in((await sms_rows(db, "sms_code"))[0]["body_text"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    statuses = [(await post_form(client, "/dashboard/sms/code", code=wrong)).status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    response = await post_form(client, "/dashboard/sms/code", code=code)  # the right one, too late
    assert response.status_code == 409 and "Ask for a code first" in response.text
    assert await db.fetchval("SELECT phone FROM sms_phones") == ""


async def test_a_new_code_waits_a_minute_and_at_most_five_an_hour(client, db, shop, email_worker_paused):
    await log_in(client, "owner@example.rw")
    assert (await post_form(client, "/dashboard/sms/phone", phone="0788123456")).status_code == 303
    response = await post_form(client, "/dashboard/sms/phone", phone="0788123456")
    assert response.status_code == 429 and "less than a minute ago" in response.text
    for _ in range(4):
        await db.execute("UPDATE sms_phones SET code_sent_at = now() - interval '2 minutes'")
        assert (await post_form(client, "/dashboard/sms/phone", phone="0788123456")).status_code == 303
    await db.execute("UPDATE sms_phones SET code_sent_at = now() - interval '2 minutes'")
    response = await post_form(client, "/dashboard/sms/phone", phone="0788123456")
    assert response.status_code == 429 and "Too many codes" in response.text
    codes = await sms_rows(db, "sms_code")
    assert len(codes) == 5
    # Only the newest code works.
    first, last = code_in(codes[0]["body_text"]), code_in(codes[-1]["body_text"])
    if first != last:
        assert (await post_form(client, "/dashboard/sms/code", code=first)).status_code == 422
    assert (await post_form(client, "/dashboard/sms/code", code=last)).status_code == 303


async def test_alerts_cannot_be_turned_on_without_a_verified_number(client, db, shop):
    await log_in(client, "owner@example.rw")
    response = await post_form(client, "/dashboard/sms/alerts", alerts="on")
    assert response.status_code == 409 and "Verify a phone number first" in response.text


async def test_the_sms_page_needs_a_log_in(client):
    response = await client.get("/dashboard/sms", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303) and "/account/login" in response.headers["location"]


# --- alerts ---------------------------------------------------------------------------------------


async def test_an_inquiry_queues_the_owners_sms_which_pindo_sends_and_reports_delivered(client, db, shop, pool, fakes):
    pindo, africastalking = fakes
    await opted_in(db, shop["owner_id"])
    await send_inquiry(client)
    inquiry_id = await db.fetchval("SELECT id FROM customer_inquiries")
    (alert,) = await sms_rows(db, "sms_inquiry")
    text = alert["body_text"]
    # In the owner's language (French), one GSM-7 SMS, with the customer's name, a preview and the link.
    assert alert["to_address"] == PHONE and alert["language"] == "fr"
    assert text.startswith("Nouveau message de Claudine Mukamana sur ServiceRW : My kitchen sink leaks")
    assert text.endswith(f"/dashboard/{shop['id']}/inbox/{inquiry_id}") and gsm7_length(text) <= 160
    # The email to the owner is queued as before.
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'inquiry_business'") == 1

    outbox = sender(pool, pindo, africastalking)
    try:
        assert await outbox.send_pending() >= 1
    finally:
        await outbox.close()
    row = await db.fetchrow("SELECT * FROM email_outbox WHERE id = $1", alert["id"])
    assert row["status"] == "sent" and row["provider"] == "pindo"
    (payload,) = pindo.delivered.values()
    assert payload == {"to": PHONE, "text": text, "sender": "ServiceRW"}
    assert africastalking.calls == 0

    secret = webhook_secret(get_settings())
    headers, body = pindo.report(row["provider_message_id"], "delivered")
    response = await client.post(f"/webhooks/sms/pindo/{secret}/delivery", content=body, headers=headers)
    assert response.status_code == 200
    row = await db.fetchrow("SELECT * FROM email_outbox WHERE id = $1", alert["id"])
    assert row["delivery_status"] == "delivered" and row["delivered_at"] is not None
    # A wrong secret is a 404 and records nothing.
    headers, body = pindo.report(row["provider_message_id"], "failed")
    response = await client.post("/webhooks/sms/pindo/not-the-secret/delivery", content=body, headers=headers)
    assert response.status_code == 404
    assert await db.fetchval("SELECT delivery_status FROM email_outbox WHERE id = $1", alert["id"]) == "delivered"


async def test_when_pindo_fails_africas_talking_sends_and_its_failure_report_is_recorded(client, db, shop, pool, fakes):
    pindo, africastalking = fakes
    pindo.mode = "error"
    await opted_in(db, shop["owner_id"])
    await send_inquiry(client)
    (alert,) = await sms_rows(db, "sms_inquiry")
    outbox = sender(pool, pindo, africastalking)
    try:
        await outbox.send_pending()
    finally:
        await outbox.close()
    row = await db.fetchrow("SELECT * FROM email_outbox WHERE id = $1", alert["id"])
    assert row["status"] == "sent" and row["provider"] == "africastalking" and "pindo: HTTP 500" in row["last_error"]
    assert pindo.calls == 1
    (form,) = africastalking.delivered.values()
    assert form["to"] == PHONE and form["message"] == alert["body_text"] and form["from"] == "ServiceRW"
    assert row["provider_message_id"].startswith("ATXid_")

    secret = webhook_secret(get_settings())
    headers, body = africastalking.report(row["provider_message_id"], "Buffered")  # not final: ignored
    assert (
        await client.post(f"/webhooks/sms/africastalking/{secret}/delivery", content=body, headers=headers)
    ).status_code == 200
    assert await db.fetchval("SELECT delivery_status FROM email_outbox WHERE id = $1", alert["id"]) == ""
    headers, body = africastalking.report(row["provider_message_id"], "Failed", "AbsentSubscriber")
    assert (
        await client.post(f"/webhooks/sms/africastalking/{secret}/delivery", content=body, headers=headers)
    ).status_code == 200
    assert await db.fetchval("SELECT delivery_status FROM email_outbox WHERE id = $1", alert["id"]) == "failed"


async def test_the_sms_is_part_of_the_inquirys_transaction(client, db, shop):
    """The customer's confirmation cannot be written: the inquiry rolls back, and the owner's SMS with it."""
    await opted_in(db, shop["owner_id"])
    await db.execute(
        """CREATE FUNCTION pg_temp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'refused for the test'; END $$"""
    )
    await db.execute(
        """CREATE TRIGGER refuse_customer_mail BEFORE INSERT ON email_outbox FOR EACH ROW
           WHEN (NEW.kind = 'inquiry_customer') EXECUTE FUNCTION pg_temp_refuse()"""
    )
    try:
        await send_inquiry(client, expect=500)
    finally:
        await db.execute("DROP TRIGGER refuse_customer_mail ON email_outbox")
        await db.execute("DROP FUNCTION pg_temp_refuse()")
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 0
    assert await sms_rows(db) == []


async def test_no_sms_without_a_verified_number_and_the_opt_in(client, db, shop, email_worker_paused):
    # A number waiting for its code, alerts not on.
    await db.execute(
        """INSERT INTO sms_phones (user_id, pending_phone, code_hash, code_expires_at)
           VALUES ($1, $2, 'x', now() + interval '5 minutes')""",
        shop["owner_id"],
        PHONE,
    )
    await send_inquiry(client)
    # Verified, but the box not ticked.
    await db.execute("UPDATE sms_phones SET phone = pending_phone, verified_at = now(), pending_phone = ''")
    await send_inquiry(client)
    assert await db.fetchval("SELECT count(*) FROM customer_inquiries") == 2
    assert await sms_rows(db) == []
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind = 'inquiry_business'") == 2


async def test_alerts_are_coalesced_within_the_interval_and_capped_per_day(db, shop, pool):
    """Straight against the service on the test's connection: SMS_ALERT_MINUTES=15, SMS_DAILY_CAP=2."""
    await opted_in(db, shop["owner_id"])
    settings = get_settings()
    alerts = SmsAlerts(replace(settings, sms=replace(settings.sms, alert_minutes=15, daily_cap=2)))

    async def inquiry(name: str) -> bool:
        async with pool.acquire() as conn, conn.transaction():
            return await alerts.queue_inquiry_alert(
                conn,
                business_id=shop["id"],
                customer_name=name,
                message=f"A question from {name}",
                link="https://servicerw.rw/dashboard/1/inbox/1",
                inbox_link="https://servicerw.rw/dashboard/1/inbox",
            )

    assert await inquiry("Aline")
    (first,) = await sms_rows(db, "sms_inquiry")
    assert await inquiry("Bosco")  # within the interval, not yet sent: counted into the waiting SMS
    (first_again,) = await sms_rows(db, "sms_inquiry")
    assert first_again["id"] == first["id"]
    assert first_again["body_text"].startswith("2 nouveaux messages sur ServiceRW, le dernier de Bosco")

    await db.execute("UPDATE email_outbox SET status = 'sent', attempts = 1 WHERE id = $1", first["id"])  # sent
    assert await inquiry("Chantal")  # a new SMS, not before 15 minutes after the first
    first, second = await sms_rows(db, "sms_inquiry")
    gap = await db.fetchval("SELECT $1::timestamptz - $2::timestamptz", second["send_after"], first["send_after"])
    assert gap.total_seconds() == 15 * 60
    assert await inquiry("Diane")  # counted into the second one
    assert len(await sms_rows(db, "sms_inquiry")) == 2

    await db.execute("UPDATE email_outbox SET status = 'sent', attempts = 1 WHERE id = $1", second["id"])
    assert not await inquiry("Eric")  # the day's cap (2) is reached
    assert len(await sms_rows(db, "sms_inquiry")) == 2


async def test_stop_from_the_verified_number_turns_alerts_off_and_the_dashboard_says_so(
    client, db, shop, africastalking, email_worker_paused
):
    await opted_in(db, shop["owner_id"])
    secret = webhook_secret(get_settings())
    # From another number: nothing changes.
    headers, body = africastalking.incoming("+250722000000", "STOP")
    assert (
        await client.post(f"/webhooks/sms/africastalking/{secret}/inbound", content=body, headers=headers)
    ).status_code == 200
    assert await db.fetchval("SELECT alerts FROM sms_phones") is True

    headers, body = africastalking.incoming("0788123456", "Hagarika ubutumwa")
    assert (
        await client.post(f"/webhooks/sms/africastalking/{secret}/inbound", content=body, headers=headers)
    ).status_code == 200
    row = await db.fetchrow("SELECT * FROM sms_phones")
    assert row["alerts"] is False and row["stopped_at"] is not None
    await send_inquiry(client)
    assert await sms_rows(db) == []

    await log_in(client, "owner@example.rw")
    page = await client.get("/dashboard/sms", headers=HTML)
    assert "You turned SMS alerts off by answering STOP" in page.text
    assert "SMS alerts are off: you answered STOP." in (await client.get("/dashboard", headers=HTML)).text
    # Ticking the box again turns them back on.
    assert (await post_form(client, "/dashboard/sms/alerts", alerts="on")).status_code == 303
    assert await db.fetchval("SELECT alerts FROM sms_phones") is True


async def test_turning_alerts_off_cancels_the_alert_still_waiting(client, db, shop, email_worker_paused):
    await opted_in(db, shop["owner_id"])
    await db.execute("UPDATE sms_phones SET last_alert_at = now()")  # the next alert waits 15 minutes
    await send_inquiry(client)
    (alert,) = await sms_rows(db, "sms_inquiry")
    assert alert["status"] == "pending"
    await log_in(client, "owner@example.rw")
    assert (await post_form(client, "/dashboard/sms/alerts")).status_code == 303
    assert await db.fetchval("SELECT status FROM email_outbox WHERE id = $1", alert["id"]) == "dead"


async def test_the_profile_has_an_sms_link_next_to_call_and_whatsapp(client, db, shop):
    page = await client.get("/b/amazi-plumbing", headers=HTML)
    assert 'href="sms:+250788123456"' in page.text and 'href="tel:+250788123456"' in page.text


async def test_webhooks_refuse_unknown_providers_and_ignore_what_they_cannot_read(client, db):
    secret = webhook_secret(get_settings())
    response = await client.post(f"/webhooks/sms/twilio/{secret}/delivery", content=b"{}")
    assert response.status_code == 404
    for body, kind in [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "text/plain"),
    ]:
        response = await client.post(
            f"/webhooks/sms/pindo/{secret}/delivery", content=body, headers={"content-type": kind}
        )
        assert response.status_code == 200
    response = await client.post(
        f"/webhooks/sms/pindo/{secret}/inbound", json={"from": "+250788123456", "text": "STOP"}
    )
    assert response.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM sms_phones") == 0
