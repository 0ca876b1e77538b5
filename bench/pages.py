"""Benchmark the home and profile pages against a running server.

Prints p50/p95/p99 of the server time (the app's Server-Timing header, i.e. time inside the app) and of
the client-observed latency, plus compressed response sizes. Profile slugs are sampled from DATABASE_URL.

    just bench-pages http://127.0.0.1:8000 --requests 2000 --concurrency 8

These requests ask for brotli only, which the page cache leaves to Litestar (rendered each time). `--cached`
measures the anonymous visitors' page cache instead: profile pages asked for with gzip, as browsers do, after
one warm-up request each (checked to be hits by their `X-Cache` header), then `wrk` (Debian `wrk`) for
`--seconds` with `--connections`, printing requests/s:

    just bench-pages http://127.0.0.1:8000 --cached --profiles 500 --seconds 20 --connections 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
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


WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {
    ["Accept"] = "text/html", ["Accept-Encoding"] = "gzip, deflate, br", ["Accept-Language"] = "%s"})
end
"""


async def cached(url: str, slugs: list[str], language: str, seconds: int, connections: int, threads: int) -> None:
    """Cached profile pages' throughput: warm every page, check it is a hit, then flood with wrk."""
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("--cached needs wrk (apt-get install -y wrk)")
    paths = [f"/b/{slug}" for slug in slugs]
    headers = {"accept": "text/html", "accept-encoding": "gzip", "accept-language": language}
    async with httpx.AsyncClient(timeout=30) as client:
        for path in paths:
            await client.get(url + path, headers=headers)
        results = [(await client.get(url + path, headers=headers)).headers.get("x-cache", "") for path in paths]
    hits = sum(result.startswith("hit") for result in results)
    print(f"{len(paths)} profile pages warmed: {hits} answered from the page cache on the second request")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (", ".join(f'"{p}"' for p in paths), language))
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url]
    print("$ " + " ".join(command))
    output = (await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)).stdout
    os.unlink(script.name)
    print(output)
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    print(f"cached profile pages: {float(match.group(1)) if match else 0:,.0f} requests/s (client on the same machine)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=2000, help="requests per page kind")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--language", default="rw")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--cached", action="store_true", help="the page cache's throughput on profiles (wrk)")
    parser.add_argument("--profiles", type=int, default=500, help="--cached: distinct profile pages")
    parser.add_argument("--seconds", type=int, default=20, help="--cached: wrk's duration")
    parser.add_argument("--connections", type=int, default=64, help="--cached: wrk's connections")
    parser.add_argument("--threads", type=int, default=2, help="--cached: wrk's threads")
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        raise SystemExit("set DATABASE_URL to the server's database (profile slugs are sampled from it)")
    slugs = await sample_slugs(dsn, max(500, args.profiles), args.random_seed)
    if args.cached:
        await cached(args.url, slugs[: args.profiles], args.language, args.seconds, args.connections, args.threads)
        return
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
