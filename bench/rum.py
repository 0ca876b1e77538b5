"""Real-user vitals beacons: POST /rum at a given concurrency against a running server, then (with
--database-url) how long until every accepted beacon is counted in rum_daily.

    RUM_LIMIT_PER_MINUTE=1000000 servicerw serve --port 8000 &
    python bench/rum.py http://127.0.0.1:8000 --requests 5000 --concurrency 32 --database-url postgresql://…

The server's per-address limit must be raised for the run (every request comes from one address). Prints the
statuses, beacons per second and p50/p95/p99 of the answer time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time

import httpx
from stats import line

PAGES = ("home", "search", "profile", "browse", "other")


def beacon(rng: random.Random) -> bytes:
    """A plausible phone's page view: log-normal LCP and TTFB, small CLS, INP when there was a tap."""
    body = {
        "page": rng.choice(PAGES),
        "lcp": round(rng.lognormvariate(7.2, 0.5)),
        "ttfb": round(rng.lognormvariate(5.8, 0.6)),
        "cls": round(rng.expovariate(30), 4),
    }
    if rng.random() < 0.6:
        body["inp"] = round(rng.lognormvariate(4.6, 0.6))
    return json.dumps(body).encode()


async def counted(database_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        # every beacon counts its LCP once
        return await conn.fetchval("SELECT coalesce(sum(count), 0)::bigint FROM rum_daily WHERE metric = 'lcp'")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    rng = random.Random(14)
    bodies = [beacon(rng) for _ in range(args.requests)]
    before = await counted(args.database_url) if args.database_url else 0
    times: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(bodies)
    headers = {"content-type": "text/plain;charset=UTF-8"}

    async with httpx.AsyncClient(base_url=args.url, timeout=30) as client:

        async def worker() -> None:
            for body in queue:
                started = time.perf_counter()
                response = await client.post("/rum", content=body, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; {args.requests} beacons, {args.concurrency} at once")
    print(f"statuses: {dict(sorted(statuses.items()))}; {args.requests / elapsed:,.0f} beacons/s")
    print(line("POST /rum", times))
    if args.database_url:
        accepted = statuses.get(204, 0)
        started = time.perf_counter()
        while await counted(args.database_url) - before < accepted:
            if time.perf_counter() - started > 60:
                break
            await asyncio.sleep(0.1)
        now = await counted(args.database_url) - before
        print(f"rum_daily: {now} of {accepted} accepted beacons counted {time.perf_counter() - started:.1f} s after")


if __name__ == "__main__":
    asyncio.run(main())
