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
    page.get_by_role("link", name=re.compile(r"^Plumbers")).click()
    expect(page.locator("#results")).to_contain_text("Ineza Plumbing")
    page.goto(base_url + "/p/kigali-city")
    page.get_by_role("link", name=re.compile(r"^Kicukiro")).first.click()
    expect(page.locator("#results")).to_contain_text("Salon Keza")
