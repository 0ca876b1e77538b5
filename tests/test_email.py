"""Emails written to the outbox reach a real SMTP server (the aiosmtpd sink started by the harness)."""

import re

import pytest

from tests.helpers import sign_up, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


async def test_the_verification_email_is_delivered_by_smtp_with_a_working_link(client, db, mail_sink_messages):
    await client.get("/account/signup", headers={"accept-language": "fr"})
    response = await sign_up(client, email="claude@example.rw")
    assert response.status_code == 303
    (message,) = await wait_for(
        lambda: [m for m in mail_sink_messages if str(m["To"]) == "claude@example.rw"], message="email delivered"
    )
    assert message["Subject"] and message["Message-ID"].endswith("@servicerw>")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert re.search(r"/account/verify\?token=\S+", text)
    assert re.search(r'<a href="[^"]+/account/verify\?token=', html)  # the small HTML part, link clickable

    async def recorded():  # the worker records the result just after the SMTP server has accepted it
        row = await db.fetchrow("SELECT * FROM email_outbox WHERE to_address = 'claude@example.rw'")
        return row if row["status"] != "sending" else None

    row = await wait_for(recorded, timeout=5, message="delivery recorded in the outbox")
    assert row["status"] == "sent" and row["provider"] == "smtp" and row["attempts"] == 1
    assert str(row["idempotency_key"]) in message["Message-ID"]


async def test_a_rolled_back_sign_up_sends_nothing(client, db, mail_sink_messages):
    await sign_up(client, email="dup@example.rw")
    client.cookies.clear()
    # The sign-up's transaction fails after its email row was written (a trigger refuses it): it rolls back.
    await db.execute(
        """CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.to_address = 'boom@example.rw' THEN RAISE EXCEPTION 'refused by the test'; END IF;
           RETURN NEW; END $$"""
    )
    await db.execute(
        "CREATE TRIGGER refuse_boom AFTER INSERT ON email_outbox FOR EACH ROW EXECUTE FUNCTION test_refuse_boom()"
    )
    try:
        refused = await sign_up(client, email="boom@example.rw")
    finally:
        await db.execute("DROP TRIGGER refuse_boom ON email_outbox")
        await db.execute("DROP FUNCTION test_refuse_boom()")
    assert refused.status_code == 500
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = 'boom@example.rw'") == 0
    client.cookies.clear()
    later = await sign_up(client, email="later@example.rw")  # queued after anything the refused one could queue
    assert later.status_code == 303

    # The positive signal: the worker has sent the later email and nothing is left to send. It claims due
    # emails oldest first and records each as sent once the SMTP server has accepted it, so an email of the
    # refused sign-up would be in the sink by now.
    async def later_sent_and_nothing_left():
        rows = await db.fetch("SELECT to_address, status FROM email_outbox")
        later = [r["status"] for r in rows if r["to_address"] == "later@example.rw"]
        return later == ["sent"] and not [r for r in rows if r["status"] in ("pending", "sending")]

    await wait_for(later_sent_and_nothing_left, message="the later email sent and nothing left to send")
    assert [str(m["To"]) for m in mail_sink_messages].count("later@example.rw") == 1
    assert len([m for m in mail_sink_messages if str(m["To"]) == "dup@example.rw"]) == 1
    assert not [m for m in mail_sink_messages if str(m["To"]) == "boom@example.rw"]
    assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE to_address = 'boom@example.rw'") == 0
