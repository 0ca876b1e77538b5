"""The journeys on a 360×740 phone (issue 14): the first search result on the first screen, "Near me" and
"List your business" from home, the inquiry form's error summary and contact method without JavaScript, and
the owner's listing form without sideways scrolling and with readable times."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.helpers import DATABASE_URL, htmx_settled, run, sign_up

SMALL = {"width": 360, "height": 740}
# Many matches across categories and districts: the most filter chips a search shows.
PLACES = [("Gasabo", "Remera"), ("Kicukiro", "Kagarama"), ("Nyarugenge", "Nyakabanda"), ("Huye", "Ngoma")]


@pytest.fixture(scope="module")
def many_matches(base_url):
    """Twelve "Umucyo" businesses in six categories and four districts (removed afterwards: other tests count
    results)."""

    async def change(insert: bool) -> None:
        import asyncpg

        conn = await asyncpg.connect(DATABASE_URL)
        try:
            if not insert:
                await conn.execute("DELETE FROM businesses WHERE slug LIKE 'umucyo-%'")
                return
            categories = await conn.fetch(
                """SELECT id FROM categories WHERE parent_id IS NOT NULL
                   AND slug NOT IN ('plumbers', 'hair-salons', 'mechanics', 'tailors') ORDER BY id LIMIT 6"""
            )
            for n in range(12):
                district, sector = PLACES[n % len(PLACES)]
                await conn.execute(
                    """INSERT INTO businesses (business_name, slug, description_en, category_id, location_id,
                           status, is_verified, phone, opening_hours, services)
                       SELECT $1, $2, 'Umucyo serves its customers.', $3, s.id, 'approved', $4, '+250788000222',
                              '{}'::jsonb, '[]'::jsonb
                       FROM locations s JOIN locations d ON d.id = s.district_id
                       WHERE s.level = 'sector' AND d.name = $5 AND s.name = $6""",
                    f"Umucyo {n}",
                    f"umucyo-{n}",
                    categories[n % len(categories)]["id"],
                    n % 2 == 0,
                    district,
                    sector,
                )
        finally:
            await conn.close()

    run(change(True))
    yield
    run(change(False))


def phone(browser: Browser, js: bool = True, lang: str = "en", **options):
    return browser.new_context(
        viewport=SMALL,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        java_script_enabled=js,
        locale={"en": "en-US", "rw": "rw-RW", "fr": "fr-FR"}[lang],
        extra_http_headers={"Accept-Language": lang},
        **options,
    )


@pytest.mark.usefixtures("many_matches")
@pytest.mark.parametrize("js", [True, False])
def test_the_first_result_is_on_the_first_screen_and_near_me_is_in_sight(browser: Browser, base_url: str, js):
    context = phone(browser, js, permissions=["geolocation"], geolocation={"latitude": -1.95, "longitude": 30.1})
    page = context.new_page()
    page.goto(base_url + "/search?q=umucyo")
    expect(page.get_by_text("12 businesses found")).to_be_visible()
    chips = page.locator(".facets a")
    assert chips.count() >= 10  # six categories, four districts, verified…
    first = page.locator("#results .card").first.bounding_box()
    assert first is not None and first["y"] < SMALL["height"], first
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL["width"]
    district = page.locator(".filter-bar select[name=district]")
    expect(district).to_be_in_viewport()  # without JavaScript: where you are is a district
    if js:
        near = page.get_by_role("button", name="Near me")
        expect(near).to_be_in_viewport()
        near.click()
        expect(page).to_have_url(re.compile(r"near=-1\.95000%2C30\.10000.*sort=distance|sort=distance.*near="))
    else:
        district.select_option("huye")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"district=huye"))
        expect(page.locator("#results .card")).to_have_count(3)
    context.close()


def test_near_me_and_list_your_business_from_home(browser: Browser, base_url: str):
    context = phone(browser, permissions=["geolocation"], geolocation={"latitude": -1.9441, "longitude": 30.0619})
    page = context.new_page()
    page.goto(base_url + "/")
    near = page.get_by_role("button", name="Near me")
    expect(near).to_be_in_viewport()
    near.click()
    expect(page).to_have_url(re.compile(r"/search\?.*near=-1\.94410%2C30\.06190"))
    expect(page).to_have_url(re.compile(r"sort=distance"))
    # The test businesses have no map pin: none is near, and the page offers to look everywhere.
    expect(page.get_by_role("link", name="Search everywhere, not only near you")).to_be_visible()
    page.goto(base_url + "/")
    expect(page.locator("footer").get_by_role("link", name="List your business")).to_have_attribute(
        "href", "/list-your-business"
    )
    page.locator("main").get_by_role("link", name="List your business").click()
    expect(page).to_have_url(re.compile(r"/account/signup\?role=owner$"))
    sign_up(page, base_url, f"lyb-{uuid.uuid4().hex[:8]}@example.rw")
    page.goto(base_url + "/")
    page.locator("footer").get_by_role("link", name="List your business").click()
    expect(page).to_have_url(base_url + "/dashboard/new")
    expect(page.get_by_role("heading", name="Add a business")).to_be_visible()
    context.close()


def test_near_me_without_javascript_is_choosing_a_district(browser: Browser, base_url: str):
    context = phone(browser, js=False)
    page = context.new_page()
    page.goto(base_url + "/")
    expect(page.get_by_role("button", name="Near me")).to_be_hidden()
    page.get_by_label("Your district").select_option(label="Kicukiro")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"district=kicukiro"))
    expect(page.locator("#results")).to_contain_text("Salon Keza")
    expect(page.locator("#results")).not_to_contain_text("Ineza Plumbing")
    context.close()


def test_without_javascript_a_failed_message_lands_on_its_error_summary(browser: Browser, base_url: str):
    context = phone(browser, js=False)
    page = context.new_page()
    page.goto(base_url + "/b/ineza-plumbing")
    page.get_by_label("Your name").fill("C")
    page.locator("#f-email").fill("claudine@example.rw")
    page.get_by_label("Your message").fill("Is the leak repair possible on Sunday?")
    page.get_by_role("button", name="Send the message").click()
    summary = page.get_by_role("alert").filter(has=page.get_by_role("heading", name="The message was not sent"))
    expect(summary).to_be_in_viewport()
    link = summary.get_by_role("link", name=re.compile("Write your name"))
    expect(link).to_be_focused()
    link.click()
    expect(page.get_by_label("Your name")).to_be_focused()
    expect(page.get_by_label("Your name")).to_be_in_viewport()
    expect(page.get_by_label("Your message")).to_have_value("Is the leak repair possible on Sunday?")
    # Only an email address, "how to contact" left alone: sent, to be answered by email.
    page.get_by_label("Your name").fill("Claudine Mukamana")
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_role("heading", name="Your message was sent")).to_be_visible()
    expect(page.get_by_text("They will contact you by email.")).to_be_visible()
    context.close()


CUT_TIMES = """() => [...document.querySelectorAll("input[type=time]")]
                 .filter((i) => i.scrollWidth > i.clientWidth).map((i) => i.name)"""


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL["width"]


def test_the_listing_form_fits_a_phone_with_readable_times_and_still_saves(browser: Browser, base_url: str):
    context = phone(browser)
    page = context.new_page()
    sign_up(page, base_url, f"narrow-{uuid.uuid4().hex[:8]}@example.rw")
    page.goto(base_url + "/dashboard/new")
    no_sideways_scroll(page)
    page.get_by_label("Name", exact=True).fill("Kagarama Tailors")
    page.get_by_label("What it does").select_option(label="Tailors")
    page.locator("select[name=province_id]").select_option(label="Kigali City")
    htmx_settled(page)
    page.locator("select[name=district_id]").select_option(label="Kicukiro")
    htmx_settled(page)
    page.locator("select[name=sector_id]").select_option(label="Niboye")
    page.get_by_label("Phone", exact=True).fill("+250 788 555 222")
    page.get_by_label("Description in English").fill("School uniforms and suits in Niboye.")
    page.locator("input[name=mon_open1]").fill("08:00")
    page.locator("input[name=mon_close1]").fill("17:30")
    page.locator("input[name=sat_open1]").fill("09:15")
    page.locator("input[name=sat_close1]").fill("13:45")
    page.get_by_text("A second opening time").click()
    page.locator("input[name=mon_open2]").fill("18:30")
    page.locator("input[name=mon_close2]").fill("21:00")
    page.get_by_label("Tuesday to Friday: same hours as Monday").check()
    page.get_by_role("checkbox", name="Closed").last.check()
    first = page.get_by_role("group", name="Service 1")
    first.get_by_label("English").fill("Trousers made to measure")
    first.get_by_label("Price (RWF)").fill("15000")
    page.get_by_text("More services").click()
    page.get_by_role("group", name="Service 4").get_by_label("Ikinyarwanda").fill("Gukora imyenda y'ishuri")
    no_sideways_scroll(page)
    # Every time input shows all of its value ("08:00 AM" included), every service field fits its card.
    assert page.evaluate(CUT_TIMES) == []
    spill = page.evaluate(
        """() => [...document.querySelectorAll(".service input")].filter((i) => {
                 const box = i.getBoundingClientRect(), card = i.closest(".service").getBoundingClientRect();
                 return box.right > card.right || box.left < card.left; }).map((i) => i.name)"""
    )
    assert spill == []
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("will appear to customers once we have checked it")).to_be_visible()
    expect(page.locator("input[name=thu_close1]")).to_have_value("17:30")
    expect(page.locator("input[name=mon_open2]")).to_have_value("18:30")
    # Saved services come back in order, without the empty ones between them.
    expect(page.get_by_role("group", name="Service 2").get_by_label("Ikinyarwanda")).to_have_value(
        "Gukora imyenda y'ishuri"
    )
    no_sideways_scroll(page)
    for lang in ("rw", "fr"):  # longer day names and labels
        page.goto(f"{base_url}/lang/{lang}?next={page.url.removeprefix(base_url)}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        no_sideways_scroll(page)
        assert page.evaluate(CUT_TIMES) == []
    context.close()


def test_with_javascript_the_swapped_form_starts_with_its_focused_error_summary(browser: Browser, base_url: str):
    context = phone(browser)
    page = context.new_page()
    page.goto(base_url + "/b/salon-keza")
    page.get_by_role("link", name="Send a message").click()
    page.get_by_label("Your name").fill("Claudine Mukamana")
    page.get_by_role("button", name="Send the message").click()
    htmx_settled(page)
    expect(page).to_have_url(base_url + "/b/salon-keza#message")  # swapped in place, no reload
    summary = page.locator("#message").get_by_role("alert")
    expect(summary.get_by_role("link").first).to_be_focused()
    expect(summary).to_be_in_viewport()
    page.locator("#f-email").fill("claudine@example.rw")
    page.get_by_label("Your message").fill("Braids on Saturday afternoon: how much is it?")
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_role("heading", name="Your message was sent")).to_be_visible()
    expect(page.get_by_text("They will contact you by email.")).to_be_visible()
    context.close()


@pytest.mark.usefixtures("many_matches")
@pytest.mark.parametrize("lang", ["rw", "fr"])
def test_the_journey_pages_fit_a_phone_in_kinyarwanda_and_french(browser: Browser, base_url: str, lang: str):
    context = phone(browser, lang=lang)
    page = context.new_page()
    sign_up_path = "/account/signup?role=owner"
    for path in ("/", "/search?q=umucyo", "/b/ineza-plumbing", sign_up_path):
        page.goto(base_url + path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        no_sideways_scroll(page)
        if path.startswith("/search"):
            first = page.locator("#results .card").first.bounding_box()
            assert first is not None and first["y"] < SMALL["height"], first
    context.close()
