"""A customer on a phone: home -> profile, in two languages, and with JavaScript off."""

import re

from playwright.sync_api import Browser, Page, expect


def test_home_to_profile_on_a_phone_in_english(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Find a trusted local service")).to_be_visible()
    expect(page.get_by_role("heading", name="Featured businesses")).to_be_visible()
    page.get_by_role("link", name=re.compile("Ineza Plumbing")).click()
    expect(page).to_have_url(base_url + "/b/ineza-plumbing")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ineza Plumbing")
    expect(page.get_by_role("link", name="Call")).to_have_attribute("href", "tel:+250788000111")
    expect(page.get_by_role("link", name="WhatsApp").first).to_have_attribute("href", "https://wa.me/250788000111")
    expect(page.get_by_text("serves customers in Kimironko")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Sunday")).get_by_text("Closed")).to_be_visible()


def test_switching_to_french_is_remembered_across_pages(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/")
    page.get_by_role("link", name="FR", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Entreprises à la une")).to_be_visible()
    page.get_by_role("link", name=re.compile("Salon Keza")).click()
    expect(page.get_by_text("sert ses clients à Niboye")).to_be_visible()
    expect(page.get_by_role("heading", name="Heures d'ouverture")).to_be_visible()
    expect(page.get_by_role("link", name="Appeler")).to_be_visible()


def test_kinyarwanda_when_the_browser_asks_for_no_language_we_have(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "de-DE,sw;q=0.5"})
    page.goto(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "rw")
    expect(page.get_by_role("heading", name="Shaka serivisi yizewe hafi yawe")).to_be_visible()


def test_search_and_profile_work_with_javascript_off(browser: Browser, base_url: str):
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 390, "height": 844},
        locale="en-US",
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("searchbox").fill("garage")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=garage"))
    expect(page.get_by_text("1 business found")).to_be_visible()
    page.get_by_role("link", name=re.compile("Urumuri Auto Garage")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Urumuri Auto Garage")
    expect(page.get_by_text("Nyamirambo").first).to_be_visible()
    context.close()


def test_unknown_business_shows_the_404_page(page: Page, base_url: str):
    page.set_extra_http_headers({"Accept-Language": "en"})
    response = page.goto(base_url + "/b/does-not-exist")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
