"""Operators' platform statistics benchmark: each /admin/stats page at the full seed volume.

First brings the daily rollups up to date (what the rollup worker does; it writes only the rollup tables,
skip it with --no-rollup), then requests every statistics page through the whole app in process (every
middleware; the Server-Timing header, i.e. server time) for several filter sets: the default 30 days,
90 days, a year and two years, each for all of Rwanda, one district, one category and both. Every
request starts with an empty cache (the figures are cached 5 minutes; a cached page is timed too).
The pages read the database with default_transaction_read_only=on. The operator is a stand-in: the
user lookup of each request runs as usual, and the bench gives that user the admin role in process.

Prints one line per page, `NAME p95 N ms` (uncached, over all filter sets), then details.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/servicerw_bench_insights python bench/admin.py
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta

TIMING = re.compile(r"app;dur=([0-9.]+)")
PAGES = {
    "stats_funnel": "/admin/stats",
    "stats_businesses": "/admin/stats/businesses",
    "stats_activity": "/admin/stats/activity",
    "stats_searches": "/admin/stats/searches",
    "stats_csv_activity": "/admin/stats/activity-by-day.csv",
}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50):6.2f} ms  p95 {pct(values, 95):6.2f} ms  max {max(values):6.2f} ms  "
        f"mean {statistics.fmean(values):6.2f} ms  n={len(values)}"
    )


def read_only(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "default_transaction_read_only=on"


async def roll_up(dsn: str) -> None:
    import asyncpg

    from servicerw.insights.rollup import catch_up

    conn = await asyncpg.connect(dsn)
    try:
        started, days = time.perf_counter(), 0
        while True:
            n = await catch_up(conn)
            if n is None:  # a running worker holds the lock: let it finish its step
                await asyncio.sleep(1)
                continue
            days += n
            if n == 0:
                break
        print(f"rollups: {days} days rolled up in {time.perf_counter() - started:.1f} s (plus today)")
        # The steady state: autovacuum sets the visibility map after a big roll (index-only scans then
        # skip the heap) and refreshes the planner's statistics; do it now rather than wait for it.
        await conn.execute("VACUUM (ANALYZE) insights_daily, insights_search_daily, insights_search_monthly")
    finally:
        await conn.close()


async def filter_sets(dsn: str) -> list[tuple[str, dict[str, str]]]:
    import asyncpg

    from servicerw.insights.rollup import kigali_today

    conn = await asyncpg.connect(dsn)
    try:
        # The busiest district and category: the most rows behind the filtered figures.
        district = await conn.fetchval(
            """SELECT l.slug FROM businesses b JOIN locations l ON l.id = (SELECT district_id FROM locations
               WHERE id = b.location_id) GROUP BY l.slug ORDER BY count(*) DESC LIMIT 1"""
        )
        category = await conn.fetchval(
            """SELECT c.slug FROM businesses b JOIN categories c ON c.id = b.category_id
               GROUP BY c.slug ORDER BY count(*) DESC LIMIT 1"""
        )
    finally:
        await conn.close()
    today = kigali_today()
    sets = []
    for label, days in (("30d", None), ("90d", 90), ("1y", 365), ("2y", 731)):
        base = {} if days is None else {"from": (today - timedelta(days=days - 1)).isoformat()}
        sets.append((f"{label} all", base))
        sets.append((f"{label} district={district}", {**base, "district": district}))
        sets.append((f"{label} category={category}", {**base, "category": category}))
        sets.append((f"{label} both", {**base, "district": district, "category": category}))
    return sets


async def bench_http(app, sets, rounds: int, lang: str, admin_id: int) -> None:
    from litestar import Request, get
    from litestar.params import FromPath
    from litestar.testing import AsyncTestClient

    from servicerw.core.sessions import log_in

    @get("/__bench__/login/{user_id:int}", sync_to_thread=False, status_code=204)
    def bench_login(request: Request, user_id: FromPath[int]) -> None:
        log_in(request, user_id)

    app.register(bench_login)
    cache_store = app.state.cache.store
    headers = {"accept": "text/html", "accept-language": lang, "accept-encoding": "br"}
    results: dict[str, dict[str, list[float]]] = {name: {} for name in PAGES}
    cached: dict[str, list[float]] = {name: [] for name in PAGES}
    async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
        await client.get(f"/__bench__/login/{admin_id}")
        for round_ in range(rounds + 1):
            for name, path in PAGES.items():
                for label, params in sets:
                    await cache_store.delete_all()
                    page = await client.get(path, params=params, headers=headers)
                    assert page.status_code == 200, (path, params, page.status_code, page.text[:300])
                    if round_ == 0:  # warm-up: connections, statement cache, buffers
                        continue
                    results[name].setdefault(label, []).append(
                        float(TIMING.search(page.headers["server-timing"]).group(1))
                    )
                    again = await client.get(path, params=params, headers=headers)
                    cached[name].append(float(TIMING.search(again.headers["server-timing"]).group(1)))
    for name in PAGES:
        every = [v for values in results[name].values() for v in values]
        print(f"{name} p95 {pct(every, 95):.0f} ms")
    print("\ndetails (server time, uncached unless said):")
    for name in PAGES:
        every = [v for values in results[name].values() for v in values]
        print(f"{name}: all filter sets  {summary(every)}")
        for label, values in results[name].items():
            print(f"    {label:<40} {summary(values)}")
        print(f"    {'cached (second request)':<40} {summary(cached[name])}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="requests per page and filter set")
    parser.add_argument("--language", default="en", choices=("rw", "en", "fr"))
    parser.add_argument("--no-rollup", action="store_true", help="do not bring the rollups up to date first")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        sys.exit("DATABASE_URL is not set")
    os.environ["DATABASE_URL"] = read_only(dsn)
    os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")
    os.environ.pop("VALKEY_URL", None)  # cache and sessions in process
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="servicerw-bench-"))
    for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY"):
        os.environ.pop(name, None)

    if not args.no_rollup:
        await roll_up(dsn)
    sets = await filter_sets(dsn)

    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        volume = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM businesses) AS businesses, (SELECT count(*) FROM customer_inquiries)
                      AS inquiries, (SELECT count(*) FROM reviews) AS reviews,
                      (SELECT count(*) FROM business_analytics) AS events,
                      (SELECT count(*) FROM search_queries) AS searches,
                      (SELECT min(id) FROM users) AS some_user"""
        )
    finally:
        await conn.close()
    print(
        f"volume: {volume['businesses']:,} businesses, {volume['inquiries']:,} inquiries, {volume['reviews']:,} "
        f"reviews, {volume['events']:,} events, {volume['searches']:,} searches; "
        f"{len(sets)} filter sets x {args.rounds} rounds per page"
    )

    from servicerw.app import create_app
    from servicerw.assembly import build_services
    from servicerw.core.auth import Access
    from servicerw.settings import get_settings

    services = build_services(get_settings())
    accounts = services.accounts

    class StandInOperator:
        """The real lookup of the logged-in user, given the admin role in process (the database is read-only)."""

        async def active_user(self, user_id: int):
            user = await accounts.active_user(user_id)
            return None if user is None else dataclasses.replace(user, role="admin")

    services.access = Access(users=StandInOperator(), businesses=services.access.businesses)
    # Only the pages are timed: the background workers stay off.
    services.photo_worker.work = services.email_worker.work = _idle
    services.rollup_worker.work = services.partitions_worker.work = _idle
    await bench_http(create_app(services=services), sets, args.rounds, args.language, volume["some_user"])


async def _idle() -> int:
    return 0


if __name__ == "__main__":
    asyncio.run(main())
