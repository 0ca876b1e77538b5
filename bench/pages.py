"""Benchmark the home and profile pages against a running server.

Prints p50/p95/p99 of the server time (the app's Server-Timing header, i.e. time inside the app) and of
the client-observed latency, plus compressed response sizes. Profile slugs are sampled from DATABASE_URL.

    just bench-pages http://127.0.0.1:8000 --requests 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import time

import asyncpg
import httpx

TIMING = re.compile(r"app;dur=([0-9.]+)")


def percentiles(values: list[float]) -> str:
    if not values:
        return "no data"
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    return (
        f"p50 {pct(50):7.2f} ms  p95 {pct(95):7.2f} ms  p99 {pct(99):7.2f} ms  "
        f"mean {statistics.fmean(ordered):7.2f} ms  n={len(ordered)}"
    )


async def sample_slugs(dsn: str, count: int, seed: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM businesses WHERE status = 'approved' AND is_active")
        slugs = [
            r["slug"]
            for r in await conn.fetch("SELECT slug FROM businesses WHERE status = 'approved' AND is_active ORDER BY id")
        ]
    finally:
        await conn.close()
    print(f"{total:,} public businesses in the database")
    return random.Random(seed).sample(slugs, min(count, len(slugs)))


async def run(url: str, paths: list[str], concurrency: int, language: str) -> dict[str, list[float]]:
    server: list[float] = []
    client_ms: list[float] = []
    sizes: list[int] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    headers = {"accept": "text/html", "accept-encoding": "br", "accept-language": language}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            async with client.stream("GET", url + path, headers=headers) as response:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            client_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            match = TIMING.search(response.headers.get("server-timing", ""))
            if match:
                server.append(float(match.group(1)))
            sizes.append(len(raw))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return {"server": server, "client": client_ms, "sizes": [float(s) for s in sizes]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=2000, help="requests per page kind")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--language", default="rw")
    parser.add_argument("--random-seed", type=int, default=7)
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        raise SystemExit("set DATABASE_URL to the server's database (profile slugs are sampled from it)")
    slugs = await sample_slugs(dsn, 500, args.random_seed)
    rng = random.Random(args.random_seed)
    kinds = {
        "home /": ["/"] * args.requests,
        "profile /b/{slug}": [f"/b/{rng.choice(slugs)}" for _ in range(args.requests)],
    }
    await run(args.url, ["/"] * 50 + [f"/b/{s}" for s in slugs[:50]], args.concurrency, args.language)  # warm-up
    print(f"server {args.url}, concurrency {args.concurrency}, language {args.language}")
    for name, paths in kinds.items():
        result = await run(args.url, paths, args.concurrency, args.language)
        print(f"\n{name}")
        print(f"  server time  {percentiles(result['server'])}")
        print(f"  client time  {percentiles(result['client'])}")
        sizes = sorted(result["sizes"])
        print(f"  brotli body  min {sizes[0]:.0f} B  median {sizes[len(sizes) // 2]:.0f} B  max {sizes[-1]:.0f} B")


if __name__ == "__main__":
    asyncio.run(main())
