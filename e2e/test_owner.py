"""A business owner on a phone: sign up, create a listing, upload photos, edit hours, see statistics;
and the same create/edit with JavaScript off."""

import re
import uuid

from PIL import Image
from playwright.sync_api import Browser, Page, expect

from e2e.helpers import PHONE, htmx_settled, sign_up


def photo(path, color) -> str:
    Image.new("RGB", (1200, 900), color).save(path, "JPEG")
    return str(path)


def fill_listing(page: Page, name: str, js: bool) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("What it does").select_option(label="Tailors")
    page.locator("select[name=province_id]").select_option(label="Kigali City")
    if not js:
        page.get_by_role("button", name="Show the places of my choice").click()
        page.get_by_label("Name", exact=True).fill(name)
    # With htmx each choice replaces the lists below it: let htmx settle before the next choice.
    htmx_settled(page)
    page.locator("select[name=district_id]").select_option(label="Kicukiro")
    if not js:
        page.get_by_role("button", name="Show the places of my choice").click()
    htmx_settled(page)
    expect(page.locator("select[name=sector_id] option", has_text="Niboye")).to_have_count(1)
    page.locator("select[name=sector_id]").select_option(label="Niboye")
    expect(page.locator("select[name=sector_id]")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Phone", exact=True).fill("+250 788 555 111")
    page.get_by_label("Description in English").fill("Made-to-measure clothes in Niboye.")


def test_owner_journey_with_photos_hours_and_statistics(page: Page, base_url: str, tmp_path):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size(PHONE)
    sign_up(page, base_url, f"owner-{uuid.uuid4().hex[:8]}@example.rw")
    page.goto(base_url + "/dashboard/new")
    fill_listing(page, "Niboye Couture", js=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("will appear to customers once we have checked it")).to_be_visible()
    page.get_by_role("link", name="Photos").first.click()
    page.locator("#f-photos").set_input_files(
        [photo(tmp_path / "a.jpg", (200, 40, 40)), photo(tmp_path / "b.jpg", (40, 200, 40))]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("received, being prepared").first).to_be_visible()
    expect(page.locator("#photos img")).to_have_count(2, timeout=45000)  # processed, shown by polling
    page.goto(re.sub(r"/photos.*$", "/edit", page.url))
    page.locator("input[name=mon_open1]").fill("08:00")
    page.locator("input[name=mon_close1]").fill("17:30")
    page.get_by_label("Tuesday to Friday: same hours as Monday").check()
    page.get_by_role("checkbox", name="Closed").last.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    expect(page.locator("input[name=fri_close1]")).to_have_value("17:30")
    page.get_by_role("link", name="Statistics").first.click()
    expect(page.get_by_text("Profile views").first).to_be_visible()  # the numbers come at once
    expect(page.locator("#stats svg").first).to_be_visible(timeout=15000)  # charts: loaded lazily by htmx


def test_create_and_edit_a_listing_with_javascript_off(browser: Browser, base_url: str):
    context = browser.new_context(
        java_script_enabled=False, viewport=PHONE, extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    sign_up(page, base_url, f"nojs-{uuid.uuid4().hex[:8]}@example.rw")
    page.goto(base_url + "/dashboard/new")
    fill_listing(page, "Kicukiro Tailors", js=False)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("will appear to customers once we have checked it")).to_be_visible()
    page.get_by_label("Description in English").fill("Now also school uniforms.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    expect(page.get_by_label("Description in English")).to_have_value("Now also school uniforms.")
    page.goto(base_url + "/dashboard")
    expect(page.get_by_text("Kicukiro Tailors")).to_be_visible()
    expect(page.get_by_text("Waiting for approval").first).to_be_visible()
    context.close()


def test_a_place_chosen_before_htmx_has_settled_still_fills_the_next_list(page: Page, base_url: str):
    """Quick hands: htmx wires up swapped-in content only when it settles (20 ms later). A district chosen on
    the freshly swapped select in that gap must still bring its sectors."""
    page.set_extra_http_headers({"Accept-Language": "en"})
    sign_up(page, base_url, f"quick-{uuid.uuid4().hex[:8]}@example.rw")
    page.goto(base_url + "/dashboard/new")
    page.evaluate(
        """() => document.body.addEventListener("htmx:afterSwap", () => {
            const district = document.querySelector("select[name=district_id]");
            const kicukiro = [...district.options].find((o) => o.text === "Kicukiro");
            if (kicukiro && !district.value) {
                district.value = kicukiro.value;
                district.dispatchEvent(new Event("change", {bubbles: true}));
            }
        })"""
    )
    page.locator("select[name=province_id]").select_option(label="Kigali City")
    expect(page.locator("select[name=sector_id] option", has_text="Niboye")).to_have_count(1)
    expect(page.locator("select[name=district_id] option:checked")).to_have_text("Kicukiro")
