"""Real-user vitals from a real browser: Chromium measures a page view (the e2e server samples every one,
RUM_SAMPLE_RATE=1), sends one beacon as the page is left, and the counts arrive in rum_daily."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from e2e.helpers import DATABASE_URL, run
from tests.helpers import wait_for_sync


def counts(page_type: str) -> dict[str, int]:
    """Beacons counted so far for a page type, by metric (every e2e page view sends one)."""
    import asyncpg

    async def read():
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            rows = await conn.fetch(
                "SELECT metric, sum(count)::int AS n FROM rum_daily WHERE page = $1 GROUP BY metric", page_type
            )
        finally:
            await conn.close()
        return {r["metric"]: r["n"] for r in rows}

    return run(read())


def more(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {metric for metric, n in after.items() if n > before.get(metric, 0)}


# What the page hands to sendBeacon is noted in sessionStorage (kept across the same tab's pages), then sent.
NOTE_BEACONS = """
const send = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, body) => {
  const seen = JSON.parse(sessionStorage.getItem("beacons") || "[]");
  seen.push({url: String(url), body: String(body)});
  sessionStorage.setItem("beacons", JSON.stringify(seen));
  return send(url, body);
};
"""


def test_leaving_a_profile_sends_its_vitals_once(page: Page, base_url: str):
    before = counts("profile")
    page.add_init_script(NOTE_BEACONS)
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(base_url + "/b/salon-keza")
    expect(page.get_by_role("heading", name="Salon Keza")).to_be_visible()
    page.get_by_role("heading", name="Salon Keza").click()  # an interaction (for INP), which goes nowhere
    page.goto(base_url + "/account/login")  # leaving (not through htmx): pagehide sends the beacon

    # The counts arrive within the writer's flush interval; LCP, CLS and TTFB are measured on every page view.
    wait_for_sync(lambda: {"lcp", "ttfb", "cls"} <= more(before, counts("profile")), timeout=20, message="vitals")
    # Exactly one beacon left the page (below). The table's counts are shared with the rest of the e2e run, whose
    # closed pages send beacons of their own at unpredictable times, so counting it exactly once is tested in
    # tests/test_rum.py (beacons posted directly).
    beacons = json.loads(page.evaluate("sessionStorage.getItem('beacons')"))
    assert len(beacons) == 1 and beacons[0]["url"] == "/rum" and len(beacons[0]["body"]) <= 2048
    body = json.loads(beacons[0]["body"])
    assert body["page"] == "profile" and set(body) <= {"page", "lcp", "inp", "cls", "ttfb"}  # nothing personal
    assert body["lcp"] > 0 and body["ttfb"] > 0


def test_a_boosted_link_ends_the_page_view_too(page: Page, base_url: str):
    """htmx swaps the next page in without unloading this one: the beacon goes before the swap (typing in the
    search box, which also changes the URL, does not end the page view)."""
    before = counts("search")
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.add_init_script(NOTE_BEACONS)
    page.goto(base_url + "/search")
    page.locator("#q").press_sequentially("salon", delay=60)  # results update in place, the URL follows
    expect(page.locator("#results")).to_contain_text("Salon Keza")
    expect(page).to_have_url(re.compile(r"q=salon"))
    assert page.evaluate("sessionStorage.getItem('beacons')") is None
    page.locator("#results").get_by_role("link", name="Salon Keza").first.click()
    expect(page.get_by_role("heading", name="Salon Keza")).to_be_visible()
    wait_for_sync(lambda: {"lcp", "ttfb"} <= more(before, counts("search")), timeout=20, message="search vitals")
    beacons = json.loads(page.evaluate("sessionStorage.getItem('beacons')"))
    assert [json.loads(b["body"])["page"] for b in beacons] == ["search"]
    assert "inp" in json.loads(beacons[0]["body"])  # the typing was measured
