"""The owner's statistics page: real numbers (Kigali days, zeros, previous period), SVG charts, access."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from litestar import Request, get
from litestar.exceptions import NoRouteMatchFoundException
from litestar.params import FromPath

from servicerw.core.sessions import log_in
from servicerw.dashboard.charts import line_chart, line_path, nice_ceiling, points
from servicerw.dashboard.controllers import DashboardController
from servicerw.dashboard.services import DashboardService, kigali_today
from tests import helpers
from tests.factories import make_business
from tests.helpers import HTML

KIGALI = ZoneInfo("Africa/Kigali")
HTMX = {**HTML, "hx-request": "true", "hx-current-url": "http://testserver.local/dashboard"}


@pytest.fixture(scope="session", autouse=True)
def routes(app):
    """The controller on the test app (until app.py lists it), and a test-only log-in that skips the
    account forms (their rate limit is shared with the other suites using this Valkey)."""
    try:
        app.route_reverse("dashboard_stats", business_id=1)
    except NoRouteMatchFoundException:
        app.register(DashboardController)

    @get("/__test__/dashboard-login/{user_id:int}", sync_to_thread=False, status_code=204)
    def log_in_for_tests(request: Request, user_id: FromPath[int]) -> None:
        log_in(request, user_id)

    app.register(log_in_for_tests)


async def make_user(db, email: str, role: str = "owner") -> int:
    return await db.fetchval(
        "INSERT INTO users (email, full_name, role) VALUES ($1, 'Test User', $2) RETURNING id", email, role
    )


async def as_user(client, user_id: int | None) -> None:
    client.cookies.clear()
    if user_id is not None:
        assert (await client.get(f"/__test__/dashboard-login/{user_id}")).status_code == 204


async def sign_up(client, email: str) -> None:
    """The real sign-up flow (which logs the new owner in)."""
    client.cookies.clear()
    response = await helpers.sign_up(client, email=email)
    assert response.status_code == 303, response.text


async def in_app(client, function, *args, **kwargs):
    """Run a coroutine function on the app's event loop (its database pool lives there)."""
    return await asyncio.to_thread(client.blocking_portal.call, partial(function, *args, **kwargs))


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), KIGALI)


async def add_events(db, business_id: int, day: date, event_type: str, count: int) -> None:
    await db.executemany(
        """INSERT INTO business_analytics (business_id, date, event_type, source, metadata, created_at)
           VALUES ($1, $2, $3, 'test', '{}', $4)""",
        [(business_id, day, event_type, at(day))] * count,
    )


async def add_inquiry(db, business_id: int, created_at: datetime) -> None:
    await db.execute(
        """INSERT INTO customer_inquiries (business_id, customer_name, message, created_at, updated_at)
           VALUES ($1, 'Jean', 'Muraho', $2, $2)""",
        business_id,
        created_at,
    )


async def arrange(db, owner_id: int | None, today: date) -> dict:
    """A 7-day window [today-6, today] and its previous period [today-13, today-7], with events on the
    edges of both, just outside them, on another business, and `inquiry` events that must be ignored."""
    business = await make_business(db, owner_id=owner_id, business_name="Salon <Keza> & Co")
    other = await make_business(db, owner_id=owner_id)
    d = lambda n: today - timedelta(days=n)  # noqa: E731
    bid = business["id"]
    for day, kind, count in [
        (d(6), "profile_view", 3),  # first day of the period
        (today, "profile_view", 2),  # last day
        (d(7), "profile_view", 5),  # last day of the previous period
        (d(13), "profile_view", 4),  # first day of the previous period
        (d(14), "profile_view", 100),  # before both
        (today + timedelta(days=1), "profile_view", 50),  # after (a clock ahead, say)
        (d(3), "search_impression", 10),  # nothing before: "new"
        (d(2), "call_click", 2),
        (d(9), "call_click", 2),  # same as before: 0 %
        (d(1), "website_click", 3),
        (d(10), "website_click", 1),  # +200 %
        (d(5), "email_click", 1),
        (d(5), "email_click", 1),
        (d(4), "inquiry", 7),  # events of this type are not the truth: customer_inquiries is
    ]:
        await add_events(db, bid, day, kind, count)
    await add_events(db, other["id"], d(2), "profile_view", 40)
    await add_events(db, other["id"], d(2), "call_click", 40)
    for created in [
        at(today, 0, 30),  # 22:30 UTC the day before: today in Kigali
        at(d(6), 0, 0, 0),  # the period's first instant
        at(d(7), 23, 59, 59),  # the previous period's last instant
        at(d(14), 23, 59, 59),  # before both
        at(today + timedelta(days=1), 0, 0, 0),  # after
    ]:
        await add_inquiry(db, bid, created)
    await add_inquiry(db, other["id"], at(d(1)))
    return {"business": business, "other": other}


async def test_numbers_per_kigali_day_with_zeros_totals_and_previous_period(client, db):
    today = kigali_today()
    data = await arrange(db, None, today)
    stats = await in_app(client, DashboardService().stats, data["business"]["id"], 7, today=today)
    assert stats.start == today - timedelta(days=6) and stats.end == today
    assert stats.previous_start == today - timedelta(days=13) and stats.previous_end == today - timedelta(days=7)
    assert stats.dates == [today - timedelta(days=n) for n in range(6, -1, -1)]
    daily = {m.key: list(m.daily) for m in stats.metrics}
    assert daily == {
        "profile_view": [3, 0, 0, 0, 0, 0, 2],
        "search_impression": [0, 0, 0, 10, 0, 0, 0],
        "call_click": [0, 0, 0, 0, 2, 0, 0],
        "whatsapp_click": [0] * 7,
        "website_click": [0, 0, 0, 0, 0, 3, 0],
        "email_click": [0, 2, 0, 0, 0, 0, 0],
        "inquiry": [1, 0, 0, 0, 0, 0, 1],
    }
    previous = {m.key: list(m.previous_daily) for m in stats.metrics}
    assert previous["profile_view"] == [4, 0, 0, 0, 0, 0, 5]
    assert previous["inquiry"] == [0, 0, 0, 0, 0, 0, 1]
    totals = {m.key: (m.total, m.previous, m.change) for m in stats.metrics}
    assert totals["profile_view"] == (5, 9, pytest.approx(-4 / 9))
    assert totals["search_impression"] == (10, 0, None)
    assert totals["call_click"] == (2, 2, 0.0)
    assert totals["whatsapp_click"] == (0, 0, None)
    assert totals["website_click"] == (3, 1, 2.0)
    assert totals["inquiry"] == (2, 1, 1.0)

    month = await in_app(client, DashboardService().stats, data["business"]["id"], 30, today=today)
    assert len(month.metrics[0].daily) == 30 and len(month.metrics[0].previous_daily) == 30
    assert month.metric("profile_view").total == 114 and month.metric("profile_view").previous == 0
    assert month.metric("inquiry").total == 4  # 14 days ago is inside 30 days; tomorrow is not
    with pytest.raises(ValueError):
        await in_app(client, DashboardService().stats, data["business"]["id"], 5)


async def test_owner_sees_the_page_with_numbers_changes_and_charts(client, db, fresh_limits):
    await sign_up(client, "owner@example.rw")  # the real flow; the client is now logged in as this owner
    owner_id = await db.fetchval("SELECT id FROM users WHERE email = 'owner@example.rw'")
    today = kigali_today()
    data = await arrange(db, owner_id, today)
    response = await client.get(f"/dashboard/{data['business']['id']}/stats?days=7", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert "HX-Request" in response.headers["vary"]
    page = response.text
    assert "<html" in page and 'id="stats"' in page
    assert "Salon &lt;Keza&gt; &amp; Co" in page and "<Keza>" not in page
    tiles = dict(re.findall(r'<li class="tile">\s*<h2>([^<]+)</h2>\s*<p class="num">(.*?)</p>', page, re.S))
    assert re.sub(r"<[^>]+>", "", tiles["Profile views"]).split(" ") == ["5", "\u221244\u00a0%"]
    assert 'class="chg new">new<' in tiles["Shown in search results"]
    assert 'class="chg same">0\u00a0%<' in tiles["Call button taps"]
    assert 'class="chg none">no change<' in tiles["WhatsApp button taps"]
    assert 'class="chg up">+200\u00a0%<' in tiles["Website link taps"]
    assert tiles["Messages received"].startswith("2 ") and "+100\u00a0%" in tiles["Messages received"]
    assert '<strong aria-current="page">7 days</strong>' in page
    for days in (30, 90):
        assert f'href="/dashboard/{data["business"]["id"]}/stats?days={days}"' in page

    # The numbers come at once; the charts load lazily (htmx on "revealed", or ?charts=1 without JS).
    assert "<svg" not in page and 'hx-trigger="revealed"' in page and "Show the charts" in page
    page = (await client.get(f"/dashboard/{data['business']['id']}/stats?days=7&charts=1", headers=HTML)).text
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 7 and 'hx-trigger="revealed"' not in page
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed XML
        assert root.get("role") == "img" and root.get("viewBox") == "0 0 320 116"
        title, desc = root.find("title"), root.find("desc")
        assert title is not None and title.text.endswith("per day") and desc is not None
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        for path in root.iter("path"):
            assert re.fullmatch(r"[MHVlz0-9 \-]+", path.get("d"))  # integers only
        assert len(svg) < 1200  # a week: small
    views = ET.fromstring(svgs[0])
    assert views.find("title").text == "Profile views per day"
    assert "5 in total; the busiest day was" in views.find("desc").text
    labels = [t.text for t in views.iter("text")]
    assert labels[1:] == [f"{(today - timedelta(days=n)):%b} {(today - timedelta(days=n)).day}" for n in (6, 3, 0)]
    whatsapp = ET.fromstring(svgs[3])
    assert whatsapp.find("desc").text.endswith(": none yet.")

    # The daily table (also the charts' data for screen readers and without pictures), newest first.
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    assert len(rows) == 7
    assert rows[0] == ["2", "0", "0", "0", "0", "0", "1"] and rows[-1] == ["3", "0", "0", "0", "0", "0", "1"]

    month = await client.get(f"/dashboard/{data['business']['id']}/stats", headers=HTML)  # default: 30 days
    assert month.status_code == 200 and '<strong aria-current="page">30 days</strong>' in month.text
    quarter = (await client.get(f"/dashboard/{data['business']['id']}/stats?days=90&charts=1", headers=HTML)).text
    assert all(len(svg) < 2600 for svg in re.findall(r"<svg.*?</svg>", quarter, re.S))


async def test_htmx_gets_the_fragment_only_and_languages_format_dates(client, db):
    owner_id = await make_user(db, "owner@example.rw")
    data = await arrange(db, owner_id, kigali_today())
    await as_user(client, owner_id)
    url = f"/dashboard/{data['business']['id']}/stats?days=30"
    fragment = await client.get(url, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="stats"') and "<html" not in fragment.text
    assert fragment.text.count("<svg") == 7 and "HX-Request" in fragment.headers["vary"]
    restore = await client.get(url, headers={**HTMX, "hx-history-restore-request": "true"})
    assert "<html" in restore.text  # Back/Forward after the cache: the whole page
    french = await client.get(url + "&charts=1", headers={**HTML, "accept-language": "fr"})
    assert french.status_code == 200
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", french.text, re.S).group(0))
    last = kigali_today()
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    assert [t.text for t in svg.iter("text")][-1] == f"{last.day} {months[last.month - 1]}"


async def test_access_anonymous_other_owner_admin_and_unknown(client, db):
    owner_id = await make_user(db, "owner@example.rw")
    other = await make_user(db, "other@example.rw")
    admin = await make_user(db, "admin@example.rw", role="admin")
    business = await make_business(db, owner_id=owner_id, status="pending")
    url = f"/dashboard/{business['id']}/stats"

    await as_user(client, None)
    anonymous = await client.get(url + "?days=90", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    location = anonymous.headers["location"]
    assert location == f"/account/login?next=/dashboard/{business['id']}/stats%3Fdays%3D90"
    login = (await client.get(location, headers=HTML)).text
    assert f'name="next" value="/dashboard/{business["id"]}/stats?days=90"' in login
    htmx = await client.get(url, headers=HTMX, follow_redirects=False)
    assert htmx.headers.get("hx-redirect", "").startswith("/account/login?next=")

    await as_user(client, other)
    denied = await client.get(url, headers=HTML)
    missing = await client.get("/dashboard/999999/stats", headers=HTML)
    assert denied.status_code == missing.status_code == 404
    # Nothing tells that the business exists (the pages differ only by their own address in the links).
    assert denied.text.replace(f"/{business['id']}/", "/999999/") == missing.text

    await as_user(client, admin)
    assert (await client.get(url, headers=HTML)).status_code == 200

    await as_user(client, owner_id)
    assert (await client.get(url, headers=HTML)).status_code == 200  # pending: the owner still sees it
    await db.execute("UPDATE users SET is_active = false WHERE id = $1", owner_id)
    assert (await client.get(url, headers=HTML)).status_code == 404


@pytest.mark.parametrize("days", ["5", "abc", "0", "-7", "30.5", "99999999999999999999"])
async def test_days_must_be_7_30_or_90(client, db, days):
    owner_id = await make_user(db, "owner@example.rw")
    business = await make_business(db, owner_id=owner_id)
    await as_user(client, owner_id)
    response = await client.get(f"/dashboard/{business['id']}/stats?days={days}", headers=HTML)
    assert response.status_code == 400
    assert "<html" in response.text and "Traceback" not in response.text


async def test_business_without_any_event_shows_zeros(client, db):
    owner_id = await make_user(db, "owner@example.rw")
    business = await make_business(db, owner_id=owner_id)
    await as_user(client, owner_id)
    page = (await client.get(f"/dashboard/{business['id']}/stats?days=90&charts=1", headers=HTML)).text
    assert page.count("no change") == 7 and page.count(": none yet.") == 7
    assert len(re.findall(r"<tr><th scope=\"row\">", page)) == 90


def test_chart_geometry_and_escaping():
    assert [nice_ceiling(n) for n in (0, 1, 2, 7, 10, 11, 23, 99, 100, 966, 1001)] == [
        1,
        1,
        2,
        8,
        10,
        20,
        30,
        100,
        100,
        1000,
        2000,
    ]
    coords = points([0, 4, 8, 2], 8)
    assert coords[0] == (2, 96) and coords[-1] == (318, 76) and coords[2][1] == 16
    assert line_path(coords) == "M2 96l105-40 106-40 105 60"
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]
    svg = line_chart(
        [0, 4, 8, 2], days, chart_id="c-x", title='<script>alert("x")</script>', description="a & b", lang="en"
    )
    root = ET.fromstring(str(svg))
    assert root.find("title").text == '<script>alert("x")</script>' and "<script>" not in svg
    assert root.find("desc").text == "a & b"
    assert [t.text for t in root.iter("text")] == ["8", "Nov 1", "Nov 3", "Nov 4"]
    flat = ET.fromstring(
        str(line_chart([0] * 90, [days[0]] * 90, chart_id="c-y", title="t", description="d", lang="rw"))
    )
    assert flat.findall("path")[2].get("d").startswith("M2 96l4 0 3 0")
    with pytest.raises(ValueError):
        line_chart([1, 2], days, chart_id="c-z", title="t", description="d", lang="en")
