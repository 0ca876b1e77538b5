"""On a phone: an owner claims an ownerless listing from its profile, confirms through the link sent to the
listing's email, an operator approves the claim, and the listing is in the owner's dashboard."""

import re
import uuid

from playwright.sync_api import Browser, expect

from e2e.helpers import DATABASE_URL, PHONE, run, sign_up


async def _sql(query: str, *args):
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


def sql(query: str, *args):
    return run(_sql(query, *args))


def test_a_claim_moves_ownership(browser: Browser, base_url: str):
    tag = uuid.uuid4().hex[:8]
    name, slug = f"Musanze Tailoring {tag}", f"musanze-tailoring-{tag}"
    sql(
        """INSERT INTO businesses (business_name, slug, description_en, category_id, location_id, status, phone,
               email)
           SELECT $1, $2, 'Clothes and uniforms made to measure.', c.id, s.id, 'approved', '+250788000333',
                  $3
           FROM categories c, locations s JOIN locations d ON d.id = s.district_id
           WHERE c.slug = 'tailors' AND s.level = 'sector' AND d.name = 'Musanze'
           ORDER BY s.name LIMIT 1""",
        name,
        slug,
        f"tailoring-{tag}@example.rw",
    )
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "extra_http_headers": {"Accept-Language": "en"}}

    owner = browser.new_context(**phone)
    page = owner.new_page()
    sign_up(page, base_url, f"claimant-{tag}@example.rw")
    page.goto(f"{base_url}/b/{slug}")
    page.get_by_role("link", name="Is this your business? Claim it").click()
    page.get_by_label("How are you connected to this business?").fill("I am the tailor; I own the workshop.")
    page.get_by_role("button", name="Claim this business").click()
    expect(page.get_by_text("We sent a link to")).to_be_visible()

    body = sql(
        "SELECT body_text FROM email_outbox WHERE kind = 'claim_confirm' AND to_address = $1",
        f"tailoring-{tag}@example.rw",
    )
    link = re.search(r"/claims/confirm\?token=\S+", body).group(0)
    page.goto(base_url + link)
    page.get_by_role("button", name="Confirm the claim").click()
    expect(page.get_by_text("the claim is confirmed")).to_be_visible()

    operator = browser.new_context(**phone)
    admin = operator.new_page()
    sign_up(admin, base_url, f"operator-{tag}@example.rw")
    sql("UPDATE users SET role = 'admin' WHERE email = $1", f"operator-{tag}@example.rw")
    admin.goto(base_url + "/admin")
    admin.get_by_role("link", name=re.compile(r"Claims to decide \(\d+\)")).click()
    item = admin.locator("li.claim", has_text=name)
    expect(item.get_by_text("Email link confirmed")).to_be_visible()
    item.get_by_role("button", name="Approve the claim").click()
    expect(admin.get_by_text("Claim approved")).to_be_visible()

    page.goto(base_url + "/dashboard")
    expect(page.get_by_text(name)).to_be_visible()
    page.goto(f"{base_url}/b/{slug}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("link", name="Is this your business? Claim it")).to_have_count(0)
    owner.close()
    operator.close()
