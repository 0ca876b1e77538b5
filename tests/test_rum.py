"""Real-user vitals: the beacon endpoint (POST /rum), the histograms in rum_daily, the p75 operators read
at /admin/stats/vitals, and the beacon script's tag on the public pages (the same for every visitor)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from litestar import post
from litestar.di import NamedDependency

from servicerw.analytics.rum import BOUNDS, RumRecorder, bucket, percentile
from servicerw.insights.rollup import kigali_today
from tests.factories import make_business
from tests.helpers import HTML, log_in, log_in_operator, sign_up

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the per-address beacon limit starts from zero

BEACON = {"content-type": "text/plain;charset=UTF-8"}  # what navigator.sendBeacon sends with a string


@pytest.fixture(scope="module")
def flush_route(app):
    """A route (test only) that writes the app's buffered beacons now (the app runs on the client's loop)."""

    @post("/__test__/flush-rum", status_code=204, opt={"exclude_from_csrf": True})
    async def flush_rum(rum: NamedDependency[RumRecorder]) -> None:
        await rum.flush()

    app.register(flush_rum)


@pytest.fixture
async def rum(client, db, flush_route):
    """rum_daily empty (after anything still buffered from earlier tests is written); returns a flusher."""

    async def flush():
        assert (await client.post("/__test__/flush-rum")).status_code == 204

    await flush()
    await db.execute("TRUNCATE rum_daily")
    return flush


async def rows(db) -> dict[tuple[str, str, int], int]:
    today = kigali_today()
    found = await db.fetch("SELECT day, page, metric, bucket, count FROM rum_daily ORDER BY 1, 2, 3, 4")
    assert all(r["day"] == today for r in found)  # the Kigali day of the beacon, nothing finer
    return {(r["page"], r["metric"], r["bucket"]): r["count"] for r in found}


async def send(client, body) -> int:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (await client.post("/rum", content=content, headers=BEACON)).status_code


async def test_a_beacon_is_counted_into_its_histogram_buckets(client, db, rum):
    response = await client.post(
        "/rum", content=json.dumps({"page": "home", "lcp": 1100, "cls": 0.02, "ttfb": 90}), headers=BEACON
    )
    assert response.status_code == 204 and response.content == b""
    assert "set-cookie" not in response.headers  # no session, no CSRF cookie
    assert await send(client, {"page": "home", "lcp": 1180.4, "inp": 40}) == 204
    assert await send(client, {"page": "search", "lcp": 5000}) == 204
    await rum()
    assert await rows(db) == {
        ("home", "lcp", BOUNDS["lcp"].index(1200)): 2,  # (1000, 1200]
        ("home", "cls", BOUNDS["cls"].index(0.025)): 1,
        ("home", "ttfb", BOUNDS["ttfb"].index(100)): 1,
        ("home", "inp", BOUNDS["inp"].index(50)): 1,
        ("search", "lcp", BOUNDS["lcp"].index(5000)): 1,  # a value on a bound falls in the bucket it ends
    }
    # Later beacons add to the same rows (count = count + excluded.count), from any process.
    assert await send(client, {"page": "home", "lcp": 1001}) == 204
    await rum()
    assert (await rows(db))[("home", "lcp", BOUNDS["lcp"].index(1200))] == 3


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        json.dumps({"page": "home"}).encode(),  # no measure
        json.dumps({"page": "checkout", "lcp": 1000}).encode(),  # unknown page type
        json.dumps({"page": "home", "fid": 10}).encode(),  # unknown metric
        json.dumps({"page": "home", "lcp": 1000, "url": "/b/x"}).encode(),  # nothing else is accepted
        json.dumps({"page": "home", "lcp": -1}).encode(),
        json.dumps({"page": "home", "lcp": 10_000_000}).encode(),
        json.dumps({"page": "home", "cls": 51}).encode(),
        json.dumps({"page": "home", "inp": "fast"}).encode(),
        json.dumps({"page": "home", "lcp": True}).encode(),
        b'{"page": "home", "lcp": NaN}',
        b'{"page": "home", "lcp": 1e400}',
    ],
)
async def test_anything_else_is_refused_and_nothing_is_written(client, db, rum, body):
    assert await send(client, body) == 400
    await rum()
    assert await rows(db) == {}


async def test_a_body_over_2_kb_is_refused(client, db, rum):
    padded = json.dumps({"page": "home", "lcp": 1000}) + " " * 2100  # valid JSON, too long
    assert await send(client, padded.encode()) == 413
    await rum()
    assert await rows(db) == {}


async def test_beacons_are_limited_per_address(client, db, rum):
    from servicerw.settings import get_settings

    limit = get_settings().analytics.rum_limit
    for _ in range(limit):
        assert await send(client, {"page": "other", "ttfb": 300}) == 204
    assert await send(client, {"page": "other", "ttfb": 300}) == 429
    await rum()
    assert await rows(db) == {("other", "ttfb", BOUNDS["ttfb"].index(300)): limit}


def test_p75_is_interpolated_inside_its_bucket():
    # 4 values in (1000, 1200]: the 3rd of 4 sits 3/4 of the way through the bucket.
    assert percentile("lcp", {bucket("lcp", 1100): 4}) == pytest.approx(1150)
    # 10 fast (0, 100] and 30 in (2000, 2500]: rank 30 is the 20th of the 30, two thirds through that bucket.
    assert percentile("lcp", {0: 10, bucket("lcp", 2400): 30}) == pytest.approx(2000 + 500 * 20 / 30)
    # The last bucket runs up to the metric's maximum; CLS is unitless.
    assert percentile("cls", {bucket("cls", 0.05): 1, bucket("cls", 0.3): 3}) == pytest.approx(0.25 + 0.05 * 2 / 3)
    assert percentile("inp", {}) is None


@pytest.fixture
async def operator(client, db):
    await log_in_operator(client, db)


async def histogram(db, day, page, metric, values: dict[float, int]) -> None:
    for value, count in values.items():
        await db.execute(
            "INSERT INTO rum_daily (day, page, metric, bucket, count) VALUES ($1, $2, $3, $4, $5)",
            day,
            page,
            metric,
            bucket(metric, value),
            count,
        )


async def test_operators_see_p75_ratings_and_sample_counts_for_the_days_chosen(client, db, rum, operator):
    today = kigali_today()
    await histogram(db, today, "profile", "lcp", {1100: 4})  # p75 1.15 s: good
    await histogram(db, today, "profile", "inp", {250: 2, 450: 6})  # p75 in (400, 500]: needs improvement
    await histogram(db, today - timedelta(days=1), "search", "cls", {0.6: 5})  # p75 in (0.5, 0.75]: poor
    await histogram(db, today - timedelta(days=40), "home", "ttfb", {3000: 9})  # outside the default 30 days

    page = await client.get("/admin/stats/vitals", headers=HTML)
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    text = " ".join(page.text.split())
    assert "Speed on visitors' phones" in text
    assert (
        '<th scope="row">Business profiles</th><td>Largest contentful paint (LCP)</td><td>1.15 s</td>'
        '<td class="rating-good">Good</td><td>4</td>' in text
    )
    assert "<td>Interaction to next paint (INP)</td><td>467 ms</td>" in text  # 400 + 100 × (6 - 2) / 6
    assert '<td class="rating-needs-improvement">Needs improvement</td><td>8</td>' in text
    assert "<td>Cumulative layout shift (CLS)</td><td>0.69</td>" in text
    assert '<td class="rating-poor">Poor</td><td>5</td>' in text
    assert "Home page" not in text and "Time to first byte (TTFB)</td><td>3" not in text
    assert "≤ 2.50 s" in text and "&gt; 500 ms" in text  # the thresholds shown beside them

    old = (today - timedelta(days=40)).isoformat()
    page = await client.get("/admin/stats/vitals", params={"from": old, "to": old}, headers=HTML)
    text = " ".join(page.text.split())
    assert '<th scope="row">Home page</th><td>Time to first byte (TTFB)</td>' in text
    assert "Business profiles" not in text

    empty = (today - timedelta(days=300)).isoformat()
    page = await client.get("/admin/stats/vitals", params={"from": empty, "to": empty}, headers=HTML)
    assert page.status_code == 200 and "No measurements for these days yet." in page.text

    bad = await client.get("/admin/stats/vitals", params={"from": "yesterday"}, headers=HTML)
    assert bad.status_code == 400 and "No measurements" not in bad.text


async def test_only_operators_see_the_vitals(client, db):
    response = await client.get("/admin/stats/vitals", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    assert (await sign_up(client, "owner@example.rw")).status_code == 303
    client.cookies.clear()
    assert (await log_in(client, "owner@example.rw")).status_code == 303
    assert (await client.get("/admin/stats/vitals", headers=HTML)).status_code == 404


async def test_public_pages_carry_the_same_beacon_tag_for_every_visitor(client, db):
    business = await make_business(db)
    expected = {
        "/": "home",
        "/search?q=pipes": "search",
        f"/b/{business['slug']}": "profile",
        "/c/plumbers": "browse",
        "/account/login": "other",
    }
    for path, page_type in expected.items():
        for _visit in range(2):  # the second is a page-cache hit on the public pages: the same tag
            response = await client.get(path, headers=HTML)
            assert response.status_code == 200, path
            tag = f'data-rate="0.1" data-page="{page_type}"></script>'
            assert response.text.count(tag) == 1, path
            assert "/static/js/rum." in response.text
    assert (await sign_up(client, "owner@example.rw")).status_code == 303
    dashboard = await client.get("/dashboard", headers=HTML)
    assert dashboard.status_code == 200 and "data-page=" not in dashboard.text  # owners' pages send nothing
