"""On a phone: a visitor reports a review; an operator hides it from the report queue; the review disappears
from the profile and the rating follows at once."""

import json
import re
import uuid

from argon2 import PasswordHasher
from playwright.sync_api import Browser, expect

from e2e.helpers import DATABASE_URL, PHONE, STRONG, htmx_settled, run


def arrange(slug: str, admin_email: str) -> None:
    """A public business with a 5-star and a 1-star review (average 3.0), and an operator account."""

    async def insert() -> None:
        import asyncpg

        conn = await asyncpg.connect(DATABASE_URL)
        try:
            password = PasswordHasher().hash(STRONG)
            await conn.execute(
                """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
                   VALUES ($1, 'Olivier Operator', $2, 'admin', 'en', true)""",
                admin_email,
                password,
            )
            business_id = await conn.fetchval(
                """INSERT INTO businesses (business_name, slug, description_en, category_id, location_id, status,
                       phone, opening_hours, services)
                   SELECT 'Gikondo Shoe Repair', $1, 'Shoes mended while you wait.', c.id, s.id, 'approved',
                          '+250788000222', $2::jsonb, '[]'::jsonb
                   FROM categories c, locations s JOIN locations d ON d.id = s.district_id
                   WHERE c.slug = 'tailors' AND s.level = 'sector' AND d.name = 'Kicukiro' AND s.name = 'Gikondo'
                   RETURNING id""",
                slug,
                json.dumps({"mon": [["08:00", "18:00"]]}),
            )
            for name, rating, body in (
                ("Eric Mugisha", 5, "Fixed my shoes in ten minutes, very kind."),
                ("Spam Bot", 1, "Cheap phones at spam.example, call now!"),
            ):
                user_id = await conn.fetchval(
                    """INSERT INTO users (email, full_name, password_hash, role, is_active)
                       VALUES ($1, $2, '', 'customer', true) RETURNING id""",
                    f"{uuid.uuid4().hex[:10]}@example.rw",
                    name,
                )
                await conn.execute(
                    """INSERT INTO reviews (business_id, user_id, rating, body, status)
                       VALUES ($1, $2, $3, $4, 'approved')""",
                    business_id,
                    user_id,
                    rating,
                    body,
                )
            await conn.execute(
                "UPDATE businesses SET average_rating = 3.0, review_count = 2 WHERE id = $1", business_id
            )
        finally:
            await conn.close()

    run(insert())


def test_a_reported_review_hidden_by_an_operator_disappears_and_the_rating_follows(browser: Browser, base_url: str):
    slug = f"gikondo-shoe-repair-{uuid.uuid4().hex[:6]}"
    admin_email = f"operator-{uuid.uuid4().hex[:8]}@example.rw"
    arrange(slug, admin_email)
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "extra_http_headers": {"Accept-Language": "en"}}

    visitor = browser.new_context(**phone)
    page = visitor.new_page()
    page.goto(f"{base_url}/b/{slug}")
    expect(page.get_by_text("★ 3.0 · 2 reviews")).to_be_visible()
    spam = page.locator("li.review", has_text="Cheap phones")
    spam.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Report a review")).to_be_visible()
    page.get_by_label("Spam or advertising").check()
    page.get_by_label("Details (optional)").fill("An advertisement, not a review.")
    page.get_by_role("button", name="Send the report").click()
    htmx_settled(page)
    expect(page.get_by_role("heading", name="Thank you for your report")).to_be_visible()

    operator = browser.new_context(**phone)
    admin = operator.new_page()
    admin.goto(base_url + "/account/login?next=/admin")
    admin.get_by_label("Email").fill(admin_email)
    admin.get_by_label("Password").fill(STRONG)
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name=re.compile(r"Reports to check \(\d+\)")).click()
    admin.get_by_role("link", name=re.compile("Review of Gikondo Shoe Repair")).first.click()
    expect(admin.get_by_text("An advertisement, not a review.")).to_be_visible()
    expect(admin.get_by_text("Cheap phones at spam.example")).to_be_visible()
    admin.get_by_role("button", name="Hide the review").click()
    expect(admin.get_by_text(re.compile(r"\d+ reports? resolved\."))).to_be_visible()
    operator.close()

    page.goto(f"{base_url}/b/{slug}")
    expect(page.get_by_text("★ 5.0 · 1 review")).to_be_visible()
    expect(page.get_by_text("Fixed my shoes in ten minutes")).to_be_visible()
    expect(page.get_by_text("Cheap phones")).to_have_count(0)
    visitor.close()
