"""An owner turns on SMS alerts on a phone, with JavaScript off: the number, the code received by SMS (read
from the outbox, as the SMS provider would deliver it), the checkbox."""

from __future__ import annotations

import re
import uuid

import asyncpg
from playwright.sync_api import Browser, expect

from e2e.helpers import DATABASE_URL, PHONE, run, sign_up


async def _latest_code(email: str) -> str:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        text = await conn.fetchval(
            """SELECT o.body_text FROM email_outbox o JOIN sms_phones p ON p.pending_phone = o.to_address
               JOIN users u ON u.id = p.user_id
               WHERE o.channel = 'sms' AND o.kind = 'sms_code' AND u.email = $1 ORDER BY o.id DESC LIMIT 1""",
            email,
        )
    finally:
        await conn.close()
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_an_owner_verifies_a_phone_and_turns_sms_alerts_on_without_javascript(browser: Browser, base_url: str):
    context = browser.new_context(
        java_script_enabled=False, viewport=PHONE, is_mobile=True, extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    try:
        email = f"sms-{uuid.uuid4().hex[:8]}@example.rw"
        sign_up(page, base_url, email)
        page.goto(base_url + "/dashboard")
        page.get_by_role("link", name="SMS alerts").click()
        expect(page.get_by_role("heading", name="SMS alerts", level=1)).to_be_visible()

        page.get_by_label("Rwandan mobile number").fill("+254 712 345 678")
        page.get_by_role("button", name="Send me a code").click()
        expect(page.get_by_text("Enter a Rwandan mobile number")).to_be_visible()
        expect(page.get_by_label("Rwandan mobile number")).to_have_attribute("aria-invalid", "true")

        page.get_by_label("Rwandan mobile number").fill("078 812 3456")
        page.get_by_role("button", name="Send me a code").click()
        expect(page.get_by_text("We sent a 6-digit code by SMS")).to_be_visible()
        page.get_by_label("6-digit code").fill(run(_latest_code(email)))
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_text("Your phone number is verified.")).to_be_visible()
        expect(page.get_by_role("heading", name="Your phone: +250788123456")).to_be_visible()

        page.get_by_label("Text me when a customer sends a message").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("SMS alerts are on.")).to_be_visible()
        expect(page.get_by_label("Text me when a customer sends a message")).to_be_checked()
    finally:
        context.close()
