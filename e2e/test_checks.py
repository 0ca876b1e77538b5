"""Every page type as its user sees it, checked by the Nu Html Checker (vnu-jar, the served HTML of all pages in
one JVM run: 0 errors but htmx's `hx-*` attributes, which HTML does not know) and by axe-core in Chromium at a
phone's and a desktop's width (0 violations of the rules axe runs by default: WCAG 2 A/AA and best practices).

The tools come from tools/package-lock.json (`just tools`). A new page type is one line in PAGES; its path may
use the names `arranged()` returns.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.helpers import DATABASE_URL, STRONG, htmx_settled, run

TOOLS = Path(__file__).resolve().parent.parent / "tools" / "node_modules"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = TOOLS / "axe-core" / "axe.min.js"

ANONYMOUS, CUSTOMER, OWNER, ADMIN = "anonymous", "customer", "owner", "admin"
LANGUAGES = ("rw", "en", "fr")  # the Nu Html Checker sees every page in each (a quote in a translation can break
# an attribute); axe sees them in Kinyarwanda, the default

# name, path (str.format with the names of `arranged()`), who asks, the status expected.
# A new page type (e.g. the offline page) is one more line.
PAGES: list[tuple[str, str, str, int]] = [
    ("home", "/", ANONYMOUS, 200),
    ("search with results", "/search?q=plumbing", ANONYMOUS, 200),
    ("empty search", "/search?q=zzqxwv", ANONYMOUS, 200),
    ("browse category", "/c/plumbers", ANONYMOUS, 200),
    ("browse place", "/p/{district}", ANONYMOUS, 200),
    ("profile", "/b/{slug}", ANONYMOUS, 200),
    ("profile, logged-in customer", "/b/{slug}", CUSTOMER, 200),
    ("reviews", "/b/{slug}/reviews", ANONYMOUS, 200),
    ("inquiry sent", "/b/{slug}/inquiries/{key}", ANONYMOUS, 200),
    ("report a listing", "/b/{slug}/report", ANONYMOUS, 200),
    ("report sent", "/b/{slug}/report/sent", ANONYMOUS, 200),
    ("claim a listing", "/b/{unowned}/claim", CUSTOMER, 200),
    ("log in", "/account/login", ANONYMOUS, 200),
    ("sign up", "/account/signup", ANONYMOUS, 200),
    ("password reset", "/account/reset", ANONYMOUS, 200),
    ("not found", "/b/no-such-business-here", ANONYMOUS, 404),
    ("offline page", "/offline", ANONYMOUS, 200),
    ("account home", "/account", CUSTOMER, 200),
    ("owner dashboard", "/dashboard", OWNER, 200),
    ("new listing form", "/dashboard/new", OWNER, 200),
    ("listing form", "/dashboard/{business_id}/edit", OWNER, 200),
    ("photos", "/dashboard/{business_id}/photos", OWNER, 200),
    ("statistics", "/dashboard/{business_id}/stats", OWNER, 200),
    ("inbox", "/dashboard/{business_id}/inbox", OWNER, 200),
    ("inbox message", "/dashboard/{business_id}/inbox/{inquiry_id}", OWNER, 200),
    ("owner's reviews", "/dashboard/{business_id}/reviews", OWNER, 200),
    ("owner's preview", "/dashboard/{business_id}/preview", OWNER, 200),
    ("API keys", "/dashboard/api-keys", OWNER, 200),
    ("SMS alerts", "/dashboard/sms", OWNER, 200),
    ("admin home", "/admin", ADMIN, 200),
    ("admin reviews queue", "/admin/reviews", ADMIN, 200),
    ("admin listings queue", "/admin/listings", ADMIN, 200),
    ("admin listing", "/admin/listings/{business_id}", ADMIN, 200),
    ("admin changes queue", "/admin/changes", ADMIN, 200),
    ("admin claims queue", "/admin/claims", ADMIN, 200),
    ("admin reports queue", "/admin/reports", ADMIN, 200),
    ("admin users", "/admin/users?q=example.rw", ADMIN, 200),
    ("admin user", "/admin/users/{owner_id}", ADMIN, 200),
    ("admin new listing", "/admin/listings/new", ADMIN, 200),
    ("admin import", "/admin/listings/import", ADMIN, 200),
    ("admin verification", "/admin/listings/{business_id}/verification", ADMIN, 200),
    ("admin statistics", "/admin/stats", ADMIN, 200),
    ("admin statistics: businesses", "/admin/stats/businesses", ADMIN, 200),
    ("admin statistics: activity", "/admin/stats/activity", ADMIN, 200),
    ("admin statistics: searches", "/admin/stats/searches", ADMIN, 200),
    ("admin statistics: vitals", "/admin/stats/vitals", ADMIN, 200),
    ("admin audit", "/admin/audit", ADMIN, 200),
    ("admin API keys", "/admin/api-keys", ADMIN, 200),
    ("API documentation", "/api/docs", ANONYMOUS, 200),
]

# Forms sent back with their errors: name, the page with the form, the form's action, fields filled (the rest
# empty), who sends it, the status expected; paths and values use the same names as PAGES.
FORMS: list[tuple[str, str, str, dict[str, str], str, int]] = [
    ("log in, unknown", "/account/login", "/account/login", {"email": "{nobody}", "password": "x"}, ANONYMOUS, 422),
    ("sign up, with errors", "/account/signup", "/account/signup", {"email": "not an email"}, ANONYMOUS, 422),
    ("inquiry, with errors", "/b/{slug}", "/b/{slug}/inquiries", {"message": "?"}, ANONYMOUS, 422),
    ("new listing, with errors", "/dashboard/new", "/dashboard/new", {"phone": "12"}, OWNER, 422),
    ("SMS phone, not a mobile", "/dashboard/sms", "/dashboard/sms/phone", {"phone": "12"}, OWNER, 422),
]
# What axe's findings leave out, by page name: Swagger UI's widget (vendored, third-party DOM: nested controls,
# its own colours) on the API documentation; the page around it is checked.
AXE_EXCLUDE: dict[str, list[str]] = {"API documentation": ["#swagger-ui"]}
# What a page draws after htmx settles, waited for before axe runs (Swagger UI draws the page's main landmark).
DRAWN: dict[str, str] = {"API documentation": "#swagger-ui main"}

# The only Nu Html Checker errors allowed: htmx's attributes, which are not HTML (each one by name, on any element).
HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[a-z-]+” not allowed on element “[a-z0-9]+” at this point\.$")

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "is_mobile": False}

TAG = uuid.uuid4().hex[:8]
EMAILS = {role: f"checks-{role}-{TAG}@example.rw" for role in (CUSTOMER, OWNER, ADMIN)}


async def _arrange() -> dict[str, object]:
    """Users of each role, a listing of the owner with a photo-less profile, a message and reviews, an ownerless
    listing (to claim); returns the names the PAGES' paths use."""
    import asyncpg

    hashed = PasswordHasher().hash(STRONG)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        ids = {}
        for role, email in EMAILS.items():
            ids[role] = await conn.fetchval(
                """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active,
                       email_verified_at)
                   VALUES ($1, $2, $3, $4, 'rw', true, now()) RETURNING id""",
                email,
                f"Checks {role.title()}",
                hashed,
                role,
            )
        slug, unowned = f"ikizamini-studio-{TAG}", f"igerageza-studio-{TAG}"
        business = """INSERT INTO businesses (business_name, slug, description_en, description_rw, description_fr,
                           category_id, location_id, status, is_verified, phone, whatsapp_number, email, owner_id,
                           opening_hours, services)
                       SELECT $1, $2, 'Wedding and passport photos near the market.',
                              'Amafoto y''ubukwe n''ay''urupapuro rw''inzira hafi y''isoko.',
                              'Photos de mariage et d''identité près du marché.', c.id, s.id, 'approved', true,
                              '+250788000222', '+250788000222', 'studio@example.rw', $3,
                              '{"mon": [["08:00", "18:00"]], "sun": []}'::jsonb,
                              '[{"name_en": "Passport photo", "name_rw": "Ifoto ya pasiporo",
                                 "name_fr": "Photo d''identité", "price_rwf": 3000}]'::jsonb
                       FROM categories c, locations s JOIN locations d ON d.id = s.district_id
                       WHERE c.slug = 'photographers' AND s.level = 'sector' AND d.name = 'Musanze'
                         AND s.name = 'Muhoza'
                       RETURNING id"""
        business_id = await conn.fetchval(business, f"Ikizamini Studio {TAG}", slug, ids[OWNER])
        await conn.fetchval(business, f"Igerageza Studio {TAG}", unowned, None)
        key = uuid.uuid4()
        inquiry_id = await conn.fetchval(
            """INSERT INTO customer_inquiries (business_id, customer_name, customer_phone, customer_email, message,
                   preferred_contact, language, idempotency_key)
               VALUES ($1, 'Aline', '+250788000333', 'aline@example.rw', 'Mufite umwanya ejo saa tanu?', 'phone',
                       'rw', $2) RETURNING id""",
            business_id,
            key,
        )
        await conn.execute(
            """INSERT INTO reviews (business_id, user_id, rating, body, language, status, owner_reply,
                   owner_replied_at)
               VALUES ($1, $2, 4, 'Serivisi nziza, bihuse.', 'rw', 'approved', 'Murakoze!', now())""",
            business_id,
            ids[CUSTOMER],
        )
        await conn.execute(
            """INSERT INTO reviews (business_id, user_id, rating, body, language, status)
               SELECT id, $2, 5, 'Bakoze neza cyane.', 'rw', 'pending' FROM businesses WHERE slug = $1""",
            unowned,
            ids[CUSTOMER],
        )
        await conn.execute(
            """UPDATE businesses SET average_rating = 4, review_count = 1 WHERE id = $1""",
            business_id,
        )
        district = await conn.fetchval("SELECT slug FROM locations WHERE level = 'district' AND name = 'Musanze'")
        return {
            "slug": slug,
            "unowned": unowned,
            "business_id": business_id,
            "owner_id": ids[OWNER],
            "inquiry_id": inquiry_id,
            "key": key,
            "district": district,
            "nobody": f"nobody-{TAG}@example.rw",
        }
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def arranged() -> dict[str, object]:
    return run(_arrange())


@pytest.fixture(scope="module")
def sessions(browser: Browser, base_url: str, arranged) -> dict[str, dict]:
    """Each role's cookies (Playwright storage state), from one log-in through the form."""
    states: dict[str, dict] = {ANONYMOUS: {"cookies": [], "origins": []}}
    for role, email in EMAILS.items():
        context = browser.new_context(**PHONE)
        page = context.new_page()
        for _attempt in range(2):  # the account forms are limited per address, shared with the other e2e tests
            page.goto(base_url + "/account/login")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(STRONG)
            with page.expect_response(lambda r: r.request.method == "POST") as sent:
                page.locator("form button[type=submit]").last.click()
            if sent.value.status != 429:
                break
            time.sleep(int(sent.value.headers.get("retry-after", "60")))  # what the server asks, then once more
        expect(page).to_have_url(re.compile(r"/account$"))
        states[role] = context.storage_state()
        context.close()
    return states


def _context(browser: Browser, sessions: dict[str, dict], role: str, device: dict) -> BrowserContext:
    # bypass_csp: axe is injected as an inline script, which the pages' CSP (rightly) refuses.
    return browser.new_context(**device, storage_state=sessions[role], bypass_csp=True)


def _pages(arranged: dict[str, object]) -> list[tuple[str, str, str, int]]:
    return [(name, path.format(**arranged), role, status) for name, path, role, status in PAGES]


def _forms(arranged: dict[str, object]) -> list[tuple[str, str, str, dict[str, str], str, int]]:
    return [
        (name, page.format(**arranged), action.format(**arranged), {k: v.format(**arranged) for k, v in fields.items()},
         role, status)
        for name, page, action, fields, role, status in FORMS
    ]  # fmt: skip


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _file_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".html"


def test_every_page_type_is_valid_html(browser: Browser, base_url: str, arranged, sessions, tmp_path):
    """The served HTML of every page, as its user gets it in each language (forms with errors: in Kinyarwanda),
    through the Nu Html Checker in one run."""
    if not VNU.exists():
        raise RuntimeError(f"{VNU} is missing: `just tools` installs it")
    contexts = {role: _context(browser, sessions, role, PHONE) for role in sessions}
    files: dict[str, str] = {}  # file path: page name

    def keep(name: str, body: bytes) -> None:
        file = tmp_path / _file_name(name)
        file.write_bytes(body)
        files[str(file)] = name

    try:
        for lang in LANGUAGES:
            for name, path, role, status in _pages(arranged):
                headers = {"Accept": "text/html", "Accept-Language": lang}
                response = contexts[role].request.get(base_url + path, headers=headers)
                assert response.status == status, (name, lang, path, response.status)
                keep(f"{name} ({lang})", response.body())
        for name, path, action, fields, role, status in _forms(arranged):
            form_page = contexts[role].request.get(base_url + path, headers={"Accept": "text/html"})
            token = CSRF_FIELD.search(form_page.text())
            assert token, (name, path)
            response = contexts[role].request.post(
                base_url + action,
                form={**fields, "_csrf_token": token.group(1)},
                headers={"Accept": "text/html"},
                max_redirects=0,
            )
            assert response.status == status, (name, action, response.status)
            keep(name, response.body())
    finally:
        for context in contexts.values():
            context.close()
    checked = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--errors-only", *sorted(files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(checked.stderr)["messages"]
    assert all(m["type"] in ("error", "non-document-error") for m in messages)
    unchecked = [m for m in messages if m["type"] == "non-document-error"]
    assert not unchecked, unchecked  # a file the checker could not read would pass unseen otherwise
    errors = [
        f"{files.get(m['url'].removeprefix('file:'), m['url'])} line {m.get('lastLine')}: {m['message']}"
        f"  «{m.get('extract', '').strip()}»"
        for m in messages
        if not HTMX_ATTRIBUTE.match(m["message"])
    ]
    assert not errors, "\n".join(errors)
    allowed = [m for m in messages if HTMX_ATTRIBUTE.match(m["message"])]
    assert allowed, "the hx-* filter matched nothing: has the checker's wording changed?"


# The whole document is checked (page-level rules see it all); the nodes inside an excluded part are dropped after.
AXE_RUN = """async (exclude) => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    const excluded = n => exclude.some(part => document.querySelector(n.target[0])?.closest(part));
    return result.violations.map(v => ({...v, nodes: v.nodes.filter(n => !excluded(n))}))
        .filter(v => v.nodes.length).map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 3)
                .map(n => n.target.join(' ') + ' — ' + n.failureSummary.split('\\n').slice(1, 2)),
            count: v.nodes.length,
        }));
}"""


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone-360x740", "desktop-1280x800"])
def test_every_page_type_has_no_accessibility_violations(browser: Browser, base_url: str, arranged, sessions, device):
    """axe-core's default rules (WCAG 2 A/AA and best practices) in Chromium, JavaScript on, after htmx settled."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: `just tools` installs it")
    contexts = {role: _context(browser, sessions, role, device) for role in sessions}
    found: list[str] = []

    def audit(name: str, path: str, page: Page) -> None:
        page.add_script_tag(path=str(AXE))
        for v in page.evaluate(AXE_RUN, AXE_EXCLUDE.get(name, [])):
            found.append(f"{name} ({path}): {v['id']} [{v['impact']}] {v['help']} ×{v['count']}")
            found.extend(f"    {target}" for target in v["targets"])

    try:
        for name, path, role, status in _pages(arranged):
            page = contexts[role].new_page()
            response = page.goto(base_url + path)
            assert response is not None and response.status == status, (name, path)
            htmx_settled(page)
            if name in DRAWN:
                page.locator(DRAWN[name]).first.wait_for()
            audit(name, path, page)
            page.close()
        for name, path, action, fields, role, status in _forms(arranged):
            page = contexts[role].new_page()
            page.goto(base_url + path)
            form = page.locator(f'form[action="{action}"]')
            for field, value in fields.items():
                form.locator(f"[name={field}]").fill(value)
            with page.expect_response(lambda r: r.request.method == "POST") as sent:
                form.evaluate("form => form.requestSubmit()")
            assert sent.value.status == status, (name, action, sent.value.status)
            htmx_settled(page)
            audit(name, action, page)
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert not found, "\n".join(found)
