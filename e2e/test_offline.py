"""On a phone that loses its connection: the service worker shows the profiles and searches visited online, an
offline page listing them for anything else, and keeps only the last 10 profiles."""

import re
import uuid

from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.helpers import DATABASE_URL, PHONE, htmx_settled, run, sign_up
from tests.helpers import wait_for_sync


async def _insert_welders(tag: str, count: int) -> list[tuple[str, str]]:
    import asyncpg

    shops = [(f"Rubavu Welding {n} {tag}", f"rubavu-welding-{n}-{tag}") for n in range(count)]
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for name, slug in shops:
            await conn.execute(
                """INSERT INTO businesses (business_name, slug, description_en, category_id, location_id, status,
                       phone)
                   SELECT $1, $2, 'Gates, windows and repairs in metal.', c.id, s.id, 'approved', '+250788000444'
                   FROM categories c, locations s JOIN locations d ON d.id = s.district_id
                   WHERE c.slug = 'welders' AND s.level = 'sector' AND d.name = 'Rubavu'
                   ORDER BY s.name LIMIT 1""",
                name,
                slug,
            )
    finally:
        await conn.close()
    return shops


def _saved(page: Page, cache: str) -> list[str]:
    """The paths the worker keeps in one of its caches."""
    return page.evaluate(
        """async (name) => {
            const cache = await caches.open(name);
            return (await cache.keys()).map((request) => new URL(request.url).pathname + new URL(request.url).search);
        }""",
        cache,
    )


def _phone(browser: Browser, base_url: str) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="allow")
    # A cookie rather than Accept-Language: the worker's own requests carry it too.
    context.add_cookies([{"name": "lang", "value": "en", "url": base_url}])
    return context


def test_visited_profiles_and_searches_are_readable_offline(browser: Browser, base_url: str):
    tag = uuid.uuid4().hex[:8]
    shops = run(_insert_welders(tag, 11))
    context = _phone(browser, base_url)
    page = context.new_page()
    page.goto(base_url + "/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    first_name, first_slug = shops[0]
    page.goto(f"{base_url}/b/{first_slug}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    page.goto(f"{base_url}/search?q={tag}")
    expect(page.locator("#results")).to_contain_text(first_name)
    # A search refined by typing on the results page (htmx asks for the results part only) is saved too.
    page.locator("#q").fill(f"rubavu {tag}")
    expect(page).to_have_url(re.compile(rf"q=rubavu\+{tag}"))
    expect(page.locator("#results")).to_contain_text(shops[10][0])
    typed = page.url.removeprefix(base_url)
    wait_for_sync(lambda: _saved(page, "servicerw-profiles") == [f"/b/{first_slug}"], message="the profile is saved")
    wait_for_sync(
        lambda: sorted(_saved(page, "servicerw-searches")) == sorted([f"/search?q={tag}", typed]),
        message="both searches are saved",
    )

    context.set_offline(True)
    page.goto(f"{base_url}/b/{first_slug}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    expect(page.get_by_role("status")).to_contain_text("You are offline: this is the copy saved on this device")
    expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the stylesheet came from the cache

    # A profile never opened: the offline page, listing what can be read.
    page.goto(f"{base_url}/b/{shops[1][1]}")
    expect(page.get_by_role("status")).to_have_text("You are offline, and this page is not saved on this device.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved pages")
    profiles, searches = page.locator("#saved-profiles a"), page.locator("#saved-searches a")
    expect(profiles).to_have_count(1)
    expect(profiles).to_contain_text(first_name)
    expect(searches).to_have_text([f"Results for “rubavu {tag}”", f"Results for “{tag}”"])  # newest first
    expect(page.get_by_text("No profile saved yet.")).to_be_hidden()
    # Its links work offline too (htmx asks for them as a boosted request).
    searches.last.click()
    htmx_settled(page)
    expect(page).to_have_url(re.compile(rf"/search\?q={tag}$"))
    expect(page.locator("#results")).to_contain_text(first_name)
    # Typing there offline: the saved results of that query, else the note in their place.
    page.locator("#q").fill(f"rubavu {tag}")
    expect(page.locator("#results")).to_contain_text(shops[10][0])
    page.locator("#q").fill(f"kigali {tag}")
    expect(page.locator("#results").get_by_role("status")).to_have_text(
        "You are offline, and this page is not saved on this device."
    )
    # The typed search opened as a page: the offline page with its saved results.
    page.goto(base_url + typed)
    expect(page.get_by_role("heading", level=2, name=f"Results for “rubavu {tag}”")).to_be_visible()
    expect(page.locator("#results")).to_contain_text(shops[10][0])

    # Back online, ten more profiles: the first one saved is no longer kept.
    context.set_offline(False)
    for _name, slug in shops[1:]:
        page.goto(f"{base_url}/b/{slug}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(_name)
    wanted = sorted(f"/b/{slug}" for _name, slug in shops[1:])
    wait_for_sync(lambda: sorted(_saved(page, "servicerw-profiles")) == wanted, message="the last 10 profiles are kept")

    context.set_offline(True)
    page.goto(f"{base_url}/b/{first_slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved pages")
    expect(page.locator("#saved-profiles a")).to_have_count(10)
    expect(page.locator("#saved-profiles a").first).to_contain_text(shops[10][0])  # newest first
    page.goto(f"{base_url}/b/{shops[10][1]}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(shops[10][0])

    # A shared phone: the visitor forgets them all.
    context.set_offline(False)
    page.goto(f"{base_url}/offline")
    expect(page.locator("#saved-profiles a")).to_have_count(10)
    page.get_by_role("button", name="Forget the saved pages").click()
    expect(page.get_by_text("No profile saved yet.")).to_be_visible()
    expect(page.get_by_text("No search saved yet.")).to_be_visible()
    assert _saved(page, "servicerw-profiles") == [] and _saved(page, "servicerw-searches") == []
    context.close()


def test_logged_in_pages_and_account_pages_are_not_saved(browser: Browser, base_url: str):
    """The worker saves what the page cache serves to anonymous visitors only: nothing of an account's pages."""
    tag = uuid.uuid4().hex[:8]
    ((name, slug),) = run(_insert_welders(tag, 1))
    context = _phone(browser, base_url)
    page = context.new_page()
    sign_up(page, base_url, f"offline-{tag}@example.rw")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto(f"{base_url}/b/{slug}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.goto(f"{base_url}/account")
    page.goto(f"{base_url}/search?q={tag}")
    expect(page.locator("#results")).to_contain_text(name)
    page.goto(f"{base_url}/offline")  # a page in the worker's hands, shown after the others were handled
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved pages")
    assert _saved(page, "servicerw-profiles") == [] and _saved(page, "servicerw-searches") == []
    context.set_offline(True)
    page.goto(f"{base_url}/account")
    expect(page.get_by_role("status")).to_have_text("You are offline, and this page is not saved on this device.")
    context.close()


def test_chromium_finds_the_site_installable(browser: Browser, base_url: str):
    context = _phone(browser, base_url)
    page = context.new_page()
    page.goto(base_url + "/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and '"short_name": "ServiceRW"' in manifest["data"]
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito profiles, where nothing can be installed; nothing else may be wrong.
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []
    context.close()
