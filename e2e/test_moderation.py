"""Operators and owners on phones: a new owner's listing approved by an operator appears in search; a rejected
one shows its reason, is fixed and resubmitted; a suspended listing leaves search at once and its profile
answers 410 (the server caches search results and profiles: nothing stale is served)."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.helpers import DATABASE_URL, STRONG, htmx_settled, run, sign_up

OPERATOR = f"operator-{uuid.uuid4().hex[:8]}@example.rw"


def word() -> str:
    """A made-up word (letters only) that no other business has: searching it finds exactly ours."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


async def _sql(query: str, *args):
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def operator(browser: Browser, browser_context_args, base_url: str) -> BrowserContext:
    """An operator, logged in once on their own phone (the account forms are throttled per address)."""
    run(
        _sql(
            """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
               VALUES ($1, 'Operator', $2, 'admin', 'en', true)""",
            OPERATOR,
            PasswordHasher().hash(STRONG),
        )
    )
    context = browser.new_context(**browser_context_args, extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.goto(base_url + "/account/login")
    page.get_by_label("Email").fill(OPERATOR)
    page.get_by_label("Password").fill(STRONG)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.close()
    yield context
    context.close()


def new_listing(page: Page, base_url: str, name: str) -> None:
    page.goto(base_url + "/dashboard/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("What it does").select_option(label="Tailors")
    page.locator("select[name=province_id]").select_option(label="Kigali City")
    htmx_settled(page)
    page.locator("select[name=district_id]").select_option(label="Kicukiro")
    htmx_settled(page)
    expect(page.locator("select[name=sector_id] option", has_text="Niboye")).to_have_count(1)
    page.locator("select[name=sector_id]").select_option(label="Niboye")
    expect(page.locator("select[name=sector_id]")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Phone", exact=True).fill("+250 788 555 111")
    page.get_by_label("Description in English").fill("Made-to-measure clothes in Niboye.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("will appear to customers once we have checked it")).to_be_visible()


def open_in_queue(operator_page: Page, base_url: str, name: str) -> None:
    operator_page.goto(base_url + "/admin")
    operator_page.get_by_role("link", name=re.compile(r"New listings \(\d+\)")).click()
    operator_page.get_by_role("link", name=name).click()
    expect(operator_page.get_by_role("heading", name=name).first).to_be_visible()


def search_results(page: Page, base_url: str, q: str):
    page.goto(f"{base_url}/search?q={q}")
    return page.locator("#results")


def test_a_new_owners_listing_approved_by_an_operator_appears_in_search(
    page: Page, operator: BrowserContext, base_url: str
):
    page.set_extra_http_headers({"Accept-Language": "en"})
    tag = word()
    name = f"Couture {tag.title()}"
    sign_up(page, base_url, f"owner-{tag}@example.rw")
    new_listing(page, base_url, name)
    page.get_by_role("link", name="Preview").click()  # the owner sees it as customers will
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("Made-to-measure clothes in Niboye.")).to_be_visible()
    expect(search_results(page, base_url, tag)).not_to_contain_text(name)  # not public yet (and now cached)

    desk = operator.new_page()
    open_in_queue(desk, base_url, name)
    expect(desk.get_by_text("Made-to-measure clothes in Niboye.")).to_be_visible()  # the profile preview
    desk.get_by_role("button", name="Approve", exact=True).click()
    expect(desk.get_by_text("Approved: the listing is public")).to_be_visible()
    desk.close()

    expect(search_results(page, base_url, tag)).to_contain_text(name)
    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_a_rejected_listing_shows_its_reason_and_is_fixed_and_resubmitted(
    page: Page, operator: BrowserContext, base_url: str
):
    page.set_extra_http_headers({"Accept-Language": "en"})
    tag = word()
    name = f"Atelier {tag.title()}"
    reason = "The phone number does not answer: give a number customers can reach."
    sign_up(page, base_url, f"owner-{tag}@example.rw")
    new_listing(page, base_url, name)

    desk = operator.new_page()
    open_in_queue(desk, base_url, name)
    desk.get_by_label("Why it cannot be published").fill(reason)
    desk.get_by_role("button", name="Reject", exact=True).click()
    expect(desk.get_by_text("Rejected: the owner is told the reason.")).to_be_visible()

    page.goto(base_url + "/dashboard")
    expect(page.get_by_text("Not approved").first).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    page.get_by_role("link", name="Edit").first.click()
    expect(page.get_by_text(reason)).to_be_visible()
    page.get_by_label("Phone", exact=True).fill("+250 788 999 000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your listing is sent to be checked again.")).to_be_visible()
    page.goto(base_url + "/dashboard")
    expect(page.get_by_text("Waiting for approval").first).to_be_visible()

    desk.goto(base_url + "/admin/listings")
    item = desk.locator("li", has_text=name)
    expect(item).to_contain_text("Resubmitted")
    expect(item).to_contain_text(reason)
    desk.close()


def test_a_suspended_listing_leaves_search_at_once_and_its_profile_answers_410(
    page: Page, operator: BrowserContext, base_url: str
):
    page.set_extra_http_headers({"Accept-Language": "en"})
    tag = word()
    name = f"Plumbing {tag.title()}"
    slug = f"plumbing-{tag}"
    business_id = run(
        _sql(
            """INSERT INTO businesses (business_name, slug, description_en, category_id, location_id, status,
                   phone, opening_hours, services)
               SELECT $1, $2, 'Pipes and tanks.', c.id, s.id, 'approved', '+250788000222', '{}'::jsonb, $3::jsonb
               FROM categories c, locations s WHERE c.slug = 'plumbers' AND s.slug = 'kicukiro-niboye'
               RETURNING id""",
            name,
            slug,
            json.dumps([]),
        )
    )
    expect(search_results(page, base_url, tag)).to_contain_text(name)  # cached by the server now
    assert page.goto(f"{base_url}/b/{slug}").status == 200  # cached too
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially(tag[:5], delay=60)
    expect(page.locator("#suggestions a", has_text=name)).to_be_visible()
    expect(page.locator("#suggest-status")).to_have_text("1 suggestion")

    desk = operator.new_page()
    desk.goto(f"{base_url}/admin/listings/{business_id}")
    desk.get_by_label("Why it is suspended").fill("Customers report that the phone number is someone else's.")
    desk.get_by_role("button", name="Suspend").click()
    expect(desk.get_by_text("Suspended: the listing left search at once")).to_be_visible()
    desk.close()

    expect(search_results(page, base_url, tag)).not_to_contain_text(name)
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially(tag[:5], delay=60)
    htmx_settled(page)
    expect(page.locator("#suggest-status")).to_have_text("0 suggestions")  # answered afresh, without it
    response = page.goto(f"{base_url}/b/{slug}")
    assert response.status == 410
    expect(page.get_by_role("heading", name="This business is no longer listed")).to_be_visible()
