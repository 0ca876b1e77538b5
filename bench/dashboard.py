"""Owner dashboard benchmark: the statistics of the businesses with the most events in the last 90 days.

Picks the --businesses (20) businesses with the most events over the last 90 days, then for days = 7, 30
and 90 times:
- the service call (the one SQL query: events and inquiries of the period and the previous one),
- the service call plus the SVG charts and formatting (everything but the template),
- the whole page through the app in process (every middleware, compression; the Server-Timing header,
  i.e. server time), logged in as each business's owner by a bench-only route.
Prints p50/p95/p99 and the SVG / fragment / page sizes (raw and brotli). The database is only read: the
connections are opened with default_transaction_read_only=on.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/servicerw_bench python bench/dashboard.py --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta

TIMING = re.compile(r"app;dur=([0-9.]+)")
SVG = re.compile(r"<svg.*?</svg>", re.S)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    return (
        f"p50 {pct(50):6.2f} ms  p95 {pct(95):6.2f} ms  p99 {pct(99):6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms  mean {statistics.fmean(ordered):6.2f} ms  n={len(ordered)}"
    )


def read_only(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "default_transaction_read_only=on"


async def top_businesses(count: int) -> list[tuple[int, int, int]]:
    from servicerw.core import db
    from servicerw.dashboard.services import kigali_today

    today = kigali_today()
    rows = await db.fetch(
        """SELECT a.business_id, count(*) AS events, b.owner_id
           FROM business_analytics a JOIN businesses b ON b.id = a.business_id
           WHERE a.date BETWEEN $1 AND $2 AND b.owner_id IS NOT NULL
           GROUP BY a.business_id, b.owner_id ORDER BY count(*) DESC, a.business_id LIMIT $3""",
        today - timedelta(days=89),
        today,
        count,
    )
    return [(r["business_id"], r["events"], r["owner_id"]) for r in rows]


async def bench_service(businesses, rounds: int, lang: str) -> None:
    from servicerw.core import i18n
    from servicerw.dashboard.controllers import present
    from servicerw.dashboard.services import PERIODS, DashboardService

    service = DashboardService()
    i18n.activate(lang)
    first_ms = []
    for business_id, _events, _owner in businesses:  # first call: connections, statement cache, buffers
        started = time.perf_counter()
        await service.stats(business_id, 90)
        first_ms.append((time.perf_counter() - started) * 1000)
    print(f"  days=90  first call     {percentiles(first_ms)}  (cold: whatever the buffers held)")
    for days in PERIODS:
        query_ms, total_ms = [], []
        for _ in range(rounds):
            for business_id, _events, _owner in businesses:
                started = time.perf_counter()
                stats = await service.stats(business_id, days)
                queried = time.perf_counter()
                present(stats, lang)
                done = time.perf_counter()
                query_ms.append((queried - started) * 1000)
                total_ms.append((done - started) * 1000)
        print(f"  days={days:<2}  query          {percentiles(query_ms)}")
        print(f"  days={days:<2}  query+charts   {percentiles(total_ms)}")


async def bench_http(app, businesses, rounds: int, lang: str) -> None:
    import brotli
    from litestar import Request, get
    from litestar.params import FromPath
    from litestar.testing import AsyncTestClient

    from servicerw.core.sessions import log_in
    from servicerw.dashboard.controllers import DashboardController
    from servicerw.dashboard.services import PERIODS

    if "/dashboard/{business_id:int}/stats" not in {route.path for route in app.routes}:
        app.register(DashboardController)

    @get("/__bench__/login/{user_id:int}", sync_to_thread=False, status_code=204)
    def bench_login(request: Request, user_id: FromPath[int]) -> None:
        log_in(request, user_id)

    app.register(bench_login)
    headers = {"accept": "text/html", "accept-language": lang, "accept-encoding": "br"}
    async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
        for days in PERIODS:
            server_ms: list[float] = []
            sizes: dict[str, list[int]] = {"svg": [], "page": [], "page_br": [], "fragment": [], "fragment_br": []}
            for round_ in range(rounds + 1):
                for business_id, _events, owner_id in businesses:
                    client.cookies.clear()
                    await client.get(f"/__bench__/login/{owner_id}")
                    url = f"/dashboard/{business_id}/stats?days={days}"
                    page = await client.get(url, headers=headers)
                    assert page.status_code == 200, page.status_code
                    if round_ == 0:  # warm-up round: sizes only
                        fragment = await client.get(url, headers={**headers, "hx-request": "true"})
                        svgs = SVG.findall(page.text)
                        sizes["svg"].append(sum(len(s.encode()) for s in svgs))
                        sizes["page"].append(len(page.content))
                        sizes["page_br"].append(len(brotli.compress(page.content, quality=5)))
                        sizes["fragment"].append(len(fragment.content))
                        sizes["fragment_br"].append(len(brotli.compress(fragment.content, quality=5)))
                        continue
                    server_ms.append(float(TIMING.search(page.headers["server-timing"]).group(1)))
            print(f"  days={days:<2}  page (server)  {percentiles(server_ms)}")
            mean = {k: round(statistics.fmean(v)) for k, v in sizes.items()}
            print(
                f"  days={days:<2}  bytes: 7 SVG charts {mean['svg']:,}, page {mean['page']:,} "
                f"(brotli-5 {mean['page_br']:,}), htmx fragment {mean['fragment']:,} (brotli-5 {mean['fragment_br']:,})"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--businesses", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10, help="requests per business and period")
    parser.add_argument("--language", default="rw", choices=("rw", "en", "fr"))
    parser.add_argument("--no-http", action="store_true", help="only the service call")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is not set")
    os.environ["DATABASE_URL"] = read_only(os.environ["DATABASE_URL"])
    os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")
    os.environ.pop("VALKEY_URL", None)  # sessions in process
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="servicerw-bench-"))
    for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY"):
        os.environ.pop(name, None)

    from servicerw.core import db
    from servicerw.settings import get_settings

    await db.start_pool(get_settings().database)
    try:
        businesses = await top_businesses(args.businesses)
        counts = [events for _id, events, _owner in businesses]
        print(f"{len(businesses)} businesses, {min(counts)}-{max(counts)} events each in the last 90 days")
        print("service (in process, one connection at a time):")
        await bench_service(businesses, args.rounds, args.language)
    finally:
        await db.close_pool()
    if not args.no_http:
        from servicerw.app import create_app

        print("HTTP (whole app in process, Server-Timing):")
        await bench_http(create_app(), businesses, args.rounds, args.language)


if __name__ == "__main__":
    asyncio.run(main())
