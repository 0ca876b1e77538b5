"""Platform statistics (/admin/stats) and the analytics partitions upkeep.

The figures are read the way an operator reads them (pages and CSV exports) and compared with direct SQL
counts on seeded data; the rollups are brought up to date by the same step the worker runs."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from servicerw.analytics.partitions import detached_partitions, keep_partitions
from servicerw.insights.rollup import catch_up, kigali_midnight, kigali_today, roll_days
from servicerw.seed.generator import seed
from servicerw.settings import AnalyticsSettings
from tests.helpers import HTML, log_in, sign_up, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")  # sign-up limits, and the statistics cache, start empty

ROLLUPS = "insights_daily, insights_search_daily, insights_search_monthly, insights_rolled_days"
OPERATOR = "ops@example.rw"


async def roll_all(conn) -> None:
    """What the rollup worker does, until it is caught up (a worker in the app may hold the lock a moment)."""

    async def step():
        while True:
            n = await catch_up(conn)
            if n is None:
                return None
            if n == 0:
                return True

    await wait_for(step, timeout=60, message="rollups caught up")


@pytest.fixture
async def seeded(db, clean_db):
    await db.execute(f"TRUNCATE {ROLLUPS}")
    await seed(clean_db, businesses=80, random_seed=5, progress=lambda _m: None)
    await roll_all(db)
    return db


@pytest.fixture
async def operator(client, db):
    assert (await sign_up(client, OPERATOR, role="customer")).status_code == 303
    await db.execute("UPDATE users SET role = 'admin' WHERE email = $1", OPERATOR)
    client.cookies.clear()
    assert (await log_in(client, OPERATOR)).status_code == 303


async def table(client, name: str, **params) -> list[dict]:
    response = await client.get(f"/admin/stats/{name}.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def window(days: int) -> tuple[date, date, datetime, datetime]:
    last = kigali_today()
    first = last - timedelta(days=days - 1)
    return first, last, kigali_midnight(first), kigali_midnight(last + timedelta(days=1))


async def test_figures_equal_direct_sql_counts(client, seeded, operator):
    db = seeded
    await roll_all(db)  # today again: with the operator's own account
    first, last, start, end = window(90)
    params = {"from": first.isoformat(), "to": last.isoformat()}

    daily = {r["day"]: r for r in await table(client, "activity-by-day", **params)}
    assert len(daily) == 90 and min(daily) == first.isoformat() and max(daily) == last.isoformat()
    for metric, sql in (
        ("inquiries", "SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date AS d, count(*) FROM customer_inquiries"),
        ("reviews", "SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date AS d, count(*) FROM reviews"),
        ("new_users", "SELECT (created_at AT TIME ZONE 'Africa/Kigali')::date AS d, count(*) FROM users"),
    ):
        expected = {
            r["d"].isoformat(): r["count"]
            for r in await db.fetch(f"{sql} WHERE created_at >= $1 AND created_at < $2 GROUP BY 1", start, end)
        }
        assert sum(expected.values()) > 0 or metric != "inquiries"
        assert {d: int(r[metric]) for d, r in daily.items() if int(r[metric])} == expected, metric

    funnel = {r["step"]: int(r["count"]) for r in await table(client, "funnel", **params)}
    events = {
        r["event_type"]: r["count"]
        for r in await db.fetch(
            "SELECT event_type, count(*) FROM business_analytics WHERE date BETWEEN $1 AND $2 GROUP BY 1", first, last
        )
    }
    assert funnel["profile_view"] == events.get("profile_view", 0) > 0
    assert funnel["search_impression"] == events.get("search_impression", 0)
    contacts = ("call_click", "whatsapp_click", "website_click", "email_click")
    assert funnel["contact"] == sum(events.get(k, 0) for k in contacts)
    assert funnel["inquiry"] == sum(int(r["inquiries"]) for r in daily.values())
    assert funnel["search"] == await db.fetchval(
        "SELECT count(*) FROM search_queries WHERE page = 1 AND created_at >= $1 AND created_at < $2", start, end
    )

    statuses = {r["status"]: r for r in await table(client, "businesses-by-status", **params)}
    for row in await db.fetch(
        """SELECT status, count(*) AS total, count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS recent
           FROM businesses GROUP BY status""",
        start,
        end,
    ):
        assert int(statuses[row["status"]]["all_time"]) == row["total"]
        assert int(statuses[row["status"]]["created_in_period"]) == row["recent"]

    top = await table(client, "top-searches", **params)
    expected_top = await db.fetch(
        """SELECT lower(btrim(query)) AS q, count(*) AS n, count(*) FILTER (WHERE zero_results) AS z
           FROM search_queries WHERE page = 1 AND created_at >= $1 AND created_at < $2 AND btrim(query) <> ''
           GROUP BY 1 ORDER BY n DESC, q LIMIT 5""",
        start,
        end,
    )
    assert [(r["query"], int(r["searches"])) for r in top[:5]] == [(r["q"], r["n"]) for r in expected_top]
    zero = await table(client, "zero-result-searches", **params)
    assert zero and all(int(r["zero_result_searches"]) > 0 for r in zero)
    assert sum(int(r["zero_result_searches"]) for r in zero) == await db.fetchval(
        "SELECT count(*) FROM search_queries WHERE page = 1 AND zero_results AND created_at >= $1 AND created_at < $2",
        start,
        end,
    )

    # The pages show the same figures, each search with a link that runs it.
    page = (await client.get("/admin/stats/searches", params=params, headers=HTML)).text
    assert f'href="/search?q={top[0]["query"].replace(" ", "+")}"' in page
    assert "Platform statistics" in (await client.get("/admin", headers=HTML)).text
    for path in ("/admin/stats", "/admin/stats/businesses", "/admin/stats/activity"):
        response = await client.get(path, params=params, headers=HTML)
        assert response.status_code == 200 and "Download this table (CSV)" in response.text


async def test_filters_by_district_category_and_dates(client, seeded, operator):
    db = seeded
    first, last, start, end = window(120)
    district = await db.fetchrow(
        """SELECT d.id, d.slug FROM customer_inquiries i JOIN businesses b ON b.id = i.business_id
           JOIN locations l ON l.id = b.location_id JOIN locations d ON d.id = l.district_id
           GROUP BY d.id, d.slug ORDER BY count(*) DESC LIMIT 1"""
    )
    top_category = await db.fetchrow(
        """SELECT p.id, p.slug FROM customer_inquiries i JOIN businesses b ON b.id = i.business_id
           JOIN categories c ON c.id = b.category_id JOIN categories p ON p.id = c.parent_id
           GROUP BY p.id, p.slug ORDER BY count(*) DESC LIMIT 1"""
    )
    base = """SELECT count(*) FROM customer_inquiries i JOIN businesses b ON b.id = i.business_id
              JOIN locations l ON l.id = b.location_id JOIN categories c ON c.id = b.category_id
              WHERE i.created_at >= $1 AND i.created_at < $2"""
    params = {"from": first.isoformat(), "to": last.isoformat()}

    async def inquiries(**filters) -> int:
        return sum(int(r["inquiries"]) for r in await table(client, "activity-by-day", **params, **filters))

    in_district = await db.fetchval(base + " AND l.district_id = $3", start, end, district["id"])
    in_category = await db.fetchval(base + " AND c.parent_id = $3", start, end, top_category["id"])
    in_both = await db.fetchval(
        base + " AND l.district_id = $3 AND c.parent_id = $4", start, end, district["id"], top_category["id"]
    )
    everywhere = await db.fetchval(base, start, end)
    assert 0 < in_district < everywhere and 0 < in_category < everywhere
    assert await inquiries(district=district["slug"]) == in_district
    assert await inquiries(category=top_category["slug"]) == in_category  # a top category includes its own
    assert await inquiries(district=district["slug"], category=top_category["slug"]) == in_both

    statuses = await table(client, "businesses-by-status", district=district["slug"])
    assert sum(int(r["all_time"]) for r in statuses) == await db.fetchval(
        "SELECT count(*) FROM businesses b JOIN locations l ON l.id = b.location_id WHERE l.district_id = $1",
        district["id"],
    )

    # Default period: the last 30 days; a chosen week gives exactly its 7 days.
    default = await table(client, "activity-by-day")
    assert [r["day"] for r in default][-1] == kigali_today().isoformat() and len(default) == 30
    week = await table(client, "activity-by-day", **{"from": "2026-03-02", "to": "2026-03-08"})
    assert [r["day"] for r in week] == [f"2026-03-0{d}" for d in range(2, 9)]
    months = await table(client, "businesses-by-month", **{"from": "2025-01-15", "to": "2025-04-10"})
    assert [r["month"] for r in months] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    created = await db.fetch(
        """SELECT to_char(created_at AT TIME ZONE 'Africa/Kigali', 'YYYY-MM') AS m, count(*) FROM businesses
           WHERE created_at >= '2024-12-01 00:00+02' AND created_at < '2025-05-01 00:00+02' GROUP BY 1"""
    )
    by_month = {r["m"]: r["count"] for r in created}
    for row in months:
        assert int(row["created"]) == by_month.get(row["month"], 0)
    january, december = by_month.get("2025-01", 0), by_month.get("2024-12", 0)
    if december:
        assert float(months[0]["growth_vs_previous_month"]) == pytest.approx((january - december) / december, abs=1e-4)


async def test_csv_export_is_a_download_and_defuses_formulas(client, db, clean_db, operator):
    await db.execute(f"TRUNCATE {ROLLUPS}")
    now = datetime.now().astimezone()
    await db.executemany(
        """INSERT INTO search_queries (created_at, query, filters, result_count, zero_results, language, page)
           VALUES ($1, $2, '{}', $3, $4, 'en', 1)""",
        [
            (now, '=HYPERLINK("http://evil")', 0, True),
            (now, "Plumber  Kicukiro", 4, False),
            (now, "plumber kicukiro", 3, False),
        ],
    )
    await roll_all(db)
    response = await client.get("/admin/stats/top-searches.csv")
    assert response.status_code == 200
    today = kigali_today()
    first = (today - timedelta(days=29)).isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="servicerw-top-searches-{first}-{today.isoformat()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["query", "searches", "zero_result_searches"]
    assert ["plumber kicukiro", "2", "0"] in rows  # one line per query, whatever the case and spacing
    assert ['\'=hyperlink("http://evil")', "1", "1"] in rows
    page = (await client.get("/admin/stats/searches", headers=HTML)).text
    assert 'href="/search?q=plumber+kicukiro"' in page
    assert "=hyperlink(&#34;http://evil&#34;)" in page or "=hyperlink(&quot;http://evil&quot;)" in page


async def test_rollup_is_idempotent_and_catches_up(seeded, client, operator):
    db = seeded

    async def snapshot() -> tuple:
        daily = await db.fetch(
            "SELECT day, metric, district_id, category_id, n FROM insights_daily ORDER BY 1, 2, 3, 4"
        )
        searches = await db.fetch(
            """SELECT day, query, district, category, searches, zero_results FROM insights_search_daily
               ORDER BY 1, 2, 3, 4"""
        )
        monthly = await db.fetch("SELECT * FROM insights_search_monthly ORDER BY month, query, district, category")
        return [tuple(r) for r in daily], [tuple(r) for r in searches], [tuple(r)[1:] for r in monthly]

    await roll_all(db)  # today again: with the operator's own account
    before = await snapshot()
    assert before[0] and before[1] and before[2]
    today = kigali_today()
    async with db.transaction():  # rolling the same days again changes nothing
        await roll_days(db, today - timedelta(days=200), today)
    assert await snapshot() == before
    assert await catch_up(db) == 0  # every finished day is final: only today is refreshed

    # Days lost (or never rolled) are rolled again by the next steps, identically.
    lost = (today - timedelta(days=60), today - timedelta(days=10))
    await db.execute("DELETE FROM insights_daily WHERE day BETWEEN $1 AND $2", *lost)
    await db.execute("DELETE FROM insights_rolled_days WHERE day BETWEEN $1 AND $2", *lost)
    unrolled = (await client.get("/admin/stats/activity", headers=HTML, params={"from": lost[0].isoformat()})).text
    assert "days of this period are not counted yet" in unrolled
    assert await catch_up(db) == 31
    await roll_all(db)
    assert await snapshot() == before

    # Today keeps counting: a new message shows up at the next refresh.
    business = await db.fetchval("SELECT id FROM businesses WHERE status = 'approved' ORDER BY id LIMIT 1")
    count_today = (
        "SELECT n FROM insights_daily WHERE day = $1 AND metric = 'inquiry' AND district_id = 0 AND category_id = 0"
    )
    was = await db.fetchval(count_today, today) or 0
    await db.execute(
        """INSERT INTO customer_inquiries (business_id, customer_name, customer_phone, message, language, status,
               created_at, updated_at) VALUES ($1, 'Eric', '+250788000000', 'Hello, are you open on Sunday?', 'en',
               'new', now(), now())""",
        business,
    )
    await roll_all(db)
    assert await db.fetchval(count_today, today) == was + 1

    # Two workers at once: one rolls, the other steps aside.
    other = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        async with db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock(x'5E7A0002'::int)")
            assert await catch_up(other) is None
    finally:
        await other.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "The first day must not be after the last day."),
        ({"from": "2022-01-01", "to": "2026-01-01"}, "Choose at most 731 days (two years) at a time."),
        ({"from": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"to": "2026-13-01"}, "Enter a date as YYYY-MM-DD"),
        ({"from": "2026-1-1"}, "Enter a date as YYYY-MM-DD"),
        ({"from": "２０２６-01-01"}, "Enter a date as YYYY-MM-DD"),
        ({"district": "atlantis"}, "Unknown district."),
        ({"district": "kicukiro-niboye"}, "Unknown district."),  # a sector, not a district
        ({"category": "no-such-thing"}, "Unknown category."),
    ],
)
async def test_bad_filters_get_a_clear_400(client, db, operator, params, message):
    for path in ("/admin/stats", "/admin/stats/businesses", "/admin/stats/activity", "/admin/stats/searches"):
        response = await client.get(path, params=params, headers=HTML)
        assert response.status_code == 400, (path, params)
        assert message in response.text and 'name="from"' in response.text
        assert "\x00" not in response.text
    export = await client.get("/admin/stats/funnel.csv", params=params, headers={"accept-language": "en"})
    assert export.status_code == 400 and message in export.text


@pytest.mark.parametrize("params", [{"from": "2026-01-01\x00"}, {"district": "gasabo\x00"}, {"category": "\x00"}])
async def test_control_characters_in_filters_get_a_clear_400(client, db, operator, params):
    """Refused at the edge (core/security.input_guard), for every route, with its own message."""
    for path in ("/admin/stats", "/admin/stats/activity", "/admin/stats/funnel.csv"):
        response = await client.get(path, params=params, headers=HTML)
        assert response.status_code == 400, (path, params)
        assert "control characters" in response.text and "\x00" not in response.text


async def test_overlong_values_and_unknown_tables(client, db, operator):
    assert (await client.get("/admin/stats", params={"district": "x" * 500}, headers=HTML)).status_code == 400
    assert (await client.get("/admin/stats/everything.csv", headers=HTML)).status_code == 404


async def test_only_administrators_see_statistics(client, db):
    paths = ["/admin/stats", "/admin/stats/businesses", "/admin/stats/activity", "/admin/stats/searches"]
    paths += ["/admin/stats/funnel.csv", "/admin/stats/top-searches.csv"]
    for path in paths:
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    assert (await sign_up(client, "owner@example.rw")).status_code == 303
    client.cookies.clear()
    assert (await log_in(client, "owner@example.rw")).status_code == 303
    for path in paths:
        assert (await client.get(path, headers=HTML)).status_code == 404


# --- analytics partitions ------------------------------------------------------------------------------


def month_name(months_back: int) -> tuple[str, date]:
    """The partition of the month `months_back` months before this one (negative: ahead), and its first day."""
    today = date.today()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    first = date(year, month + 1, 1)
    return f"business_analytics_{first:%Y_%m}", first


async def drop_detached(db) -> None:
    for name in await detached_partitions(db):
        await db.execute(f'DROP TABLE "{name}"')


async def test_partitions_ahead_idempotent_and_old_months_detached(db, clean_db):
    settings = AnalyticsSettings(months_ahead=14, retention_months=24)
    try:
        first = await keep_partitions(db, settings, wait=True)
        again = await keep_partitions(db, settings, wait=True)
        assert first.ran and again.ran and again.created == 0 and again.detached == ()
        attached = "SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass($1)"
        assert await db.fetchval(attached, month_name(-14)[0]) == 1  # 14 months ahead

        # An old month with a row in it; a retention of 24 months detaches it.
        old, old_first = month_name(30)
        await db.execute("SELECT servicerw_ensure_analytics_partitions(30, 0)")
        owner = await db.fetchval(
            """INSERT INTO users (email, full_name, password_hash, role) VALUES ('o@example.rw', 'O', 'x', 'owner')
               RETURNING id"""
        )
        location = await db.fetchval("SELECT id FROM locations WHERE level = 'cell' LIMIT 1")
        category = await db.fetchval("SELECT id FROM categories WHERE parent_id IS NOT NULL LIMIT 1")
        business = await db.fetchval(
            """INSERT INTO businesses (business_name, slug, category_id, location_id, owner_id, status, phone)
               VALUES ('Old Shop', 'old-shop', $1, $2, $3, 'approved', '+250788000001') RETURNING id""",
            category,
            location,
            owner,
        )
        await db.execute(
            "INSERT INTO business_analytics (business_id, date, event_type) VALUES ($1, $2, 'profile_view')",
            business,
            old_first + timedelta(days=3),
        )
        recent, recent_first = month_name(2)
        await db.execute(
            "INSERT INTO business_analytics (business_id, date, event_type) VALUES ($1, $2, 'profile_view')",
            business,
            recent_first,
        )
        done = await keep_partitions(db, settings, wait=True)
        assert old in done.detached or old in await detached_partitions(db)
        assert old in await detached_partitions(db) and recent not in await detached_partitions(db)
        visible = "SELECT count(*) FROM business_analytics WHERE date = $1"
        assert await db.fetchval(visible, old_first + timedelta(days=3)) == 0  # gone from business_analytics
        assert await db.fetchval(f'SELECT count(*) FROM "{old}"') == 1  # kept in the detached table
        assert await db.fetchval(visible, recent_first) == 1
        assert (await keep_partitions(db, settings, wait=True)).detached == ()  # nothing more to do

        # Several at once (workers in every process, cron): none fails; the lock lets one work at a time.
        async def one(wait: bool):
            conn = await asyncpg.connect(clean_db)
            try:
                return await keep_partitions(conn, settings, wait=wait)
            finally:
                await conn.close()

        results = await asyncio.gather(*(one(i % 2 == 0) for i in range(6)))
        assert all(r.detached == () and r.created == 0 for r in results)
        assert any(r.ran for r in results)
    finally:
        await drop_detached(db)


def test_partitions_command(migrated_db):
    env = {**os.environ, "DATABASE_URL": migrated_db, "ANALYTICS_RETENTION_MONTHS": "24"}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "servicerw.cli", "partitions"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "analytics partitions:" in done.stdout and "detached (older than 24 months)" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "servicerw.cli", "partitions"],
        env={**env, "ANALYTICS_RETENTION_MONTHS": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "ANALYTICS_RETENTION_MONTHS must be at least 1" in bad.stderr
