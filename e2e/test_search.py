"""Searching on a phone: results update while typing, Back restores, suggestions by keyboard, no-JS."""

import re

from playwright.sync_api import Browser, Page, expect


def test_typing_updates_results_without_a_full_reload(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/search")
    page.evaluate("window.__marker = 'same page'")  # survives only if the page is never reloaded
    page.locator("#q").press_sequentially("salon", delay=60)
    expect(page.locator("#results")).to_contain_text("Salon Keza")
    expect(page.locator("#results")).not_to_contain_text("Urumuri Auto Garage")
    expect(page).to_have_url(re.compile(r"/search\?q=salon$"))
    assert page.evaluate("window.__marker") == "same page"


def test_back_restores_the_previous_query(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/search")
    page.locator("#q").fill("garage")
    expect(page.locator("#results")).to_contain_text("Urumuri Auto Garage")
    expect(page).to_have_url(re.compile(r"q=garage"))
    page.locator("#q").fill("plumbing")
    expect(page.locator("#results")).to_contain_text("Ineza Plumbing")
    expect(page).to_have_url(re.compile(r"q=plumbing"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=garage"))
    expect(page.locator("#results")).to_contain_text("Urumuri Auto Garage")
    expect(page.locator("#results")).not_to_contain_text("Ineza Plumbing")


def test_suggestions_can_be_chosen_with_the_keyboard(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("urum", delay=60)
    suggestion = page.locator("#suggestions a", has_text="Urumuri Auto Garage")
    expect(suggestion).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("#suggestions a").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(base_url + "/b/urumuri-auto-garage")


def test_filters_and_search_work_with_javascript_off(browser: Browser, base_url: str):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    page.goto(base_url + "/search?q=salon")
    expect(page.get_by_text("1 business found")).to_be_visible()
    page.goto(base_url + "/search")
    page.get_by_text("Filters").click()
    page.locator("select[name=district]").select_option("kicukiro")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"district=kicukiro"))
    expect(page.locator("#results")).to_contain_text("Salon Keza")
    expect(page.locator("#results")).not_to_contain_text("Ineza Plumbing")
    page.get_by_role("link", name="Salon Keza").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Salon Keza")
    context.close()


def test_browse_a_category_and_a_place(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/c/home-repairs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Home repairs")
    page.get_by_role("link", name=re.compile(r"^Plumbers")).first.click()  # the sub-category (the facets also link it)
    expect(page.locator("#results")).to_contain_text("Ineza Plumbing")
    page.goto(base_url + "/p/kigali-city")
    page.get_by_role("link", name=re.compile(r"^Kicukiro")).first.click()
    expect(page.locator("#results")).to_contain_text("Salon Keza")


CONTRAST = """el => {
    const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const channel = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    const lum = c => { const [r, g, b] = c.map(channel); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    let bg = el, color = 'rgba(0, 0, 0, 0)';
    while (bg && (color = getComputedStyle(bg).backgroundColor) === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(color))].sort((x, y) => y - x);
    return {contrast: (a + 0.05) / (b + 0.05), transform: getComputedStyle(el).textTransform};
}"""


def test_a_word_people_type_suggests_its_category_with_a_quiet_readable_label(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "rw"})
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("umukan", delay=60)
    line = page.locator("#suggestions a", has_text="Abakanishi")
    expect(line).to_be_visible()
    expect(line.locator(".kind")).to_have_text("Icyiciro")
    style = line.locator(".kind").evaluate(CONTRAST)
    assert style["transform"] == "none" and style["contrast"] >= 4.5, style
    line.hover()
    assert line.locator(".kind").evaluate(CONTRAST)["contrast"] >= 4.5
