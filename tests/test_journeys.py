"""Issue 14's journeys on the server side: the owner's way in from every page, "near me" without JavaScript
on home, and the search page's compact filters (the screens themselves: e2e/test_phone_journeys.py)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import HTML, owner

pytestmark = pytest.mark.usefixtures("fresh_limits")


async def test_list_your_business_leads_owners_to_sign_up_or_to_a_new_listing(client, db):
    home = await client.get("/", headers=HTML)
    footer = home.text[home.text.index('<footer class="foot">') :]
    assert 'href="/list-your-business"' in footer  # in base.html: on every page
    assert home.text.count('href="/list-your-business"') == 2  # and once more in the page itself
    anonymous = await client.get("/list-your-business", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/account/signup?role=owner"
    assert "no-store" in anonymous.headers["cache-control"]
    await owner(client, "new-owner@example.rw")
    logged_in = await client.get("/list-your-business", headers=HTML, follow_redirects=False)
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/dashboard/new"
    again = await client.get("/list-your-business", headers=HTML, follow_redirects=False)
    assert again.headers["location"] == "/dashboard/new"  # never a cached answer from someone else


async def test_home_offers_near_me_and_a_district_for_browsers_without_javascript(client, db):
    page = (await client.get("/", headers=HTML)).text
    form = page[page.index('<form class="near-me"') : page.index("</form>", page.index('<form class="near-me"'))]
    assert 'action="/search"' in form and 'method="get"' in form
    assert "data-near-me hidden" in form  # shown by near-me.js where the browser can locate the phone
    assert '<label for="near-district">Your district</label>' in form
    assert '<option value="kicukiro">Kicukiro</option>' in form and form.count("<option") == 31  # all + 30
    results = await client.get(
        "/search", params={"near": "", "sort": "relevance", "district": "kicukiro"}, headers=HTML
    )
    assert results.status_code == 200


async def test_the_filter_bar_shows_near_me_and_the_district_and_counts_the_folded_filters(client, db):
    plain = (await client.get("/search", params={"q": "salon"}, headers=HTML)).text
    bar = plain[plain.index('class="filter-bar"') : plain.index('<details class="more"')]
    assert "data-near-me" in bar and 'name="district"' in bar  # in sight, not behind the toggle
    assert re.search(r"<summary>Filters</summary>", plain)
    assert '<details class="more">' in plain  # folded even when filters are on: the count says so
    filtered = await client.get(
        "/search",
        params={"q": "salon", "district": "kicukiro", "min_rating": "4", "verified": "1", "open_now": "1"},
        headers=HTML,
    )
    assert "<summary>Filters (3)</summary>" in filtered.text  # the district is in the bar, not counted
    assert '<option value="kicukiro" selected>' in filtered.text
