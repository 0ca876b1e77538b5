"""A customer on a phone finds a business and sends it a message (with JavaScript on, and off); the owner
logs in, sees it in the inbox and answers it."""

import re
import uuid

from playwright.sync_api import Browser, Page, expect

from e2e.helpers import DATABASE_URL, PHONE, run, sign_up


def give_business_to(email: str, slug: str) -> None:
    async def update() -> None:
        import asyncpg

        conn = await asyncpg.connect(DATABASE_URL)
        try:
            await conn.execute(
                "UPDATE businesses SET owner_id = (SELECT id FROM users WHERE email = $1) WHERE slug = $2", email, slug
            )
        finally:
            await conn.close()

    run(update())


def write_message(page: Page, name: str, text: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Phone", exact=True).fill("0788 555 123")
    page.locator("#f-email").fill("claudine@example.rw")
    page.get_by_label("WhatsApp").check()
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send the message").click()


def test_customer_sends_an_inquiry_and_the_owner_answers_it_from_the_inbox(browser: Browser, base_url: str):
    owner_email = f"garage-{uuid.uuid4().hex[:8]}@example.rw"
    owner = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, extra_http_headers={"Accept-Language": "en"}
    )
    owner_page = owner.new_page()
    sign_up(owner_page, base_url, owner_email)
    give_business_to(owner_email, "urumuri-auto-garage")

    customer = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, extra_http_headers={"Accept-Language": "en"}
    )
    page = customer.new_page()
    page.goto(base_url + "/")
    page.get_by_role("searchbox").fill("garage")
    page.get_by_role("link", name=re.compile("Urumuri Auto Garage")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Urumuri Auto Garage")
    page.get_by_role("link", name="Send a message").click()
    write_message(page, "Claudine Mukamana", "My car makes a noise when braking. Can I come on Monday?")
    # With htmx the form is replaced in place by the confirmation: same page, no reload.
    expect(page.get_by_role("heading", name="Your message was sent")).to_be_visible()
    expect(page.get_by_text("They will contact you by WhatsApp.")).to_be_visible()
    expect(page).to_have_url(base_url + "/b/urumuri-auto-garage#message")
    customer.close()

    owner_page.goto(base_url + "/dashboard")
    expect(owner_page.get_by_text("1 unread")).to_be_visible()
    owner_page.get_by_role("link", name=re.compile("Messages")).first.click()
    owner_page.get_by_role("link", name="Claudine Mukamana").click()
    expect(owner_page.get_by_text("My car makes a noise when braking.")).to_be_visible()
    expect(owner_page.get_by_role("link", name="0788 555 123")).to_have_attribute("href", "tel:0788 555 123")
    owner_page.get_by_label("Answer by email").fill("Yes, come on Monday at 8. Brake check costs 10,000 RWF.")
    owner_page.get_by_role("button", name="Send the answer").click()
    expect(owner_page.get_by_text("Your answer was sent by email.")).to_be_visible()
    owner_page.get_by_role("link", name=re.compile("Messages")).click()
    owner_page.get_by_role("link", name=re.compile(r"Replied \(1\)")).click()
    expect(owner_page.get_by_role("link", name="Claudine Mukamana")).to_be_visible()
    owner.close()


def test_sending_an_inquiry_with_javascript_off(browser: Browser, base_url: str):
    context = browser.new_context(
        java_script_enabled=False, viewport=PHONE, extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    page.goto(base_url + "/b/salon-keza")
    page.get_by_role("link", name="Send a message").click()
    page.get_by_label("Your name").fill("Claudine Mukamana")
    page.get_by_role("button", name="Send the message").click()
    # Server-side checks: clear messages, nothing typed is lost.
    expect(page.get_by_role("alert").get_by_text("Write a message of 10 to 2000 characters")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Claudine Mukamana")
    write_message(page, "Claudine Mukamana", "I would like braids on Saturday afternoon, how much is it?")
    expect(page).to_have_url(re.compile(r"/b/salon-keza/inquiries/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Your message was sent")).to_be_visible()
    expect(page.get_by_text("A copy was sent to claudine@example.rw.")).to_be_visible()
    page.get_by_role("link", name="Back to Salon Keza").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Salon Keza")
    context.close()
