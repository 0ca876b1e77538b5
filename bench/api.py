"""The public API against the HTML pages it mirrors, on one server at full volume (DATABASE_URL).

Starts `servicerw serve` (one worker) on DATABASE_URL (and VALKEY_URL when set) with the API limits raised (a
benchmark is not a partner), makes a premium key for an existing account, then for the search mix of
bench/search.py and a sample of profiles requests, in turn, the HTML page and its API twin:

    html-search  /search?…            rest-search     /api/v1/search?…      graphql-search  /graphql {search}
    html-business /b/{slug}           rest-business   /api/v1/businesses/{slug}

A first pass fills the caches (search results 15 min, profiles 1 h) for both; the measured passes run on them.
Prints `NAME p95 N ms` (server time, from the Server-Timing header) for each, and the API's difference.

    DATABASE_URL=postgresql://…/servicerw_bench_api just bench-api --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
from search import build_mix
from stats import line, pct

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(r"app;dur=([0-9.]+)")
GRAPHQL_SEARCH = """query($q: String!, $category: String!, $district: String!, $verified: Boolean!, $minRating: Float!,
      $openNow: Boolean!, $near: String!, $radiusKm: Float!, $sort: Sort!) {
  search(q: $q, category: $category, district: $district, verified: $verified, minRating: $minRating,
         openNow: $openNow, near: $near, radiusKm: $radiusKm, sort: $sort) {
    total pages items { id slug name rating reviewCount verified category { slug name } place district
                        photo { alt sizes { width webp jpeg } } }
    facets { categories { slug name count } districts { slug name count } rating4 rating3 verified openNow }
  }
}"""


async def premium_key(dsn: str) -> str:
    import hashlib

    secret = "srw_" + secrets.token_urlsafe(32)
    conn = await asyncpg.connect(dsn)
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE is_active ORDER BY id LIMIT 1")
        await conn.execute(
            "INSERT INTO api_keys (user_id, name, prefix, key_hash, tier) VALUES ($1, 'bench', $2, $3, 'premium')",
            user_id,
            secret[:12],
            hashlib.sha256(secret.encode()).hexdigest(),
        )
        slugs = [
            r["slug"]
            for r in await conn.fetch("SELECT slug FROM businesses WHERE status = 'approved' AND is_active ORDER BY id")
        ]
    finally:
        await conn.close()
    return secret, slugs


def start(port: int) -> subprocess.Popen:
    env = {**os.environ, "API_LIMIT_PREMIUM": "100000000", "API_LIMIT_ANONYMOUS": "100000000"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("servicerw")), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not get ready")


def graphql_variables(params: dict) -> dict:
    return {
        "q": params.get("q", ""),
        "category": params.get("category", ""),
        "district": params.get("district", ""),
        "verified": params.get("verified") == "1",
        "minRating": float(params.get("min_rating", 0)),
        "openNow": params.get("open_now") == "1",
        "near": params.get("near", ""),
        "radiusKm": float(params.get("radius_km", 10)),
        "sort": params.get("sort", "relevance").upper(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--random-seed", type=int, default=5)
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        raise SystemExit("DATABASE_URL is required (a full-volume database: servicerw migrate && servicerw seed)")
    key, slugs = await premium_key(dsn)
    mix = [params for _name, params in await build_mix(dsn, args.random_seed)]
    profiles = random.Random(args.random_seed).sample(slugs, min(args.profiles, len(slugs)))
    server = start(args.port)
    url = f"http://127.0.0.1:{args.port}"
    times: dict[str, list[float]] = {
        n: [] for n in ("html-search", "rest-search", "graphql-search", "html-business", "rest-business")
    }
    html = {"accept": "text/html", "accept-language": "en", "accept-encoding": "br"}
    api = {
        "accept": "application/json",
        "accept-language": "en",
        "accept-encoding": "br",
        "authorization": f"Bearer {key}",
    }

    async def measure(client: httpx.AsyncClient, name: str | None, method: str, path: str, **kwargs) -> None:
        response = await client.request(method, url + path, **kwargs)
        if response.status_code != 200:
            raise SystemExit(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        if method == "POST" and response.json().get("errors"):
            raise SystemExit(f"GraphQL errors: {response.json()['errors']}")
        match = TIMING.search(response.headers.get("server-timing", ""))
        if name and match:
            times[name].append(float(match.group(1)))

    try:
        async with httpx.AsyncClient(timeout=60) as client:
            for round_number in range(args.rounds + 1):
                record = round_number > 0  # the first round fills the caches
                for params in mix:
                    query = urlencode(params)
                    variables = graphql_variables(params)
                    await measure(client, "html-search" if record else None, "GET", f"/search?{query}", headers=html)
                    await measure(
                        client, "rest-search" if record else None, "GET", f"/api/v1/search?{query}", headers=api
                    )
                    await measure(
                        client,
                        "graphql-search" if record else None,
                        "POST",
                        "/graphql",
                        json={"query": GRAPHQL_SEARCH, "variables": variables},
                        headers=api,
                    )
                for slug in profiles:
                    await measure(client, "html-business" if record else None, "GET", f"/b/{slug}", headers=html)
                    await measure(
                        client, "rest-business" if record else None, "GET", f"/api/v1/businesses/{slug}", headers=api
                    )
    finally:
        server.terminate()
        server.wait(15)
    print(
        f"{len(mix)} searches and {len(profiles)} profiles, {args.rounds} measured rounds (caches warm), server time:"
    )
    for name, values in times.items():
        print(line(name, values, 16))
    print()
    for name, values in times.items():
        print(f"{name} p95 {pct(values, 95):.2f} ms")
    for api_name, page in (
        ("rest-search", "html-search"),
        ("graphql-search", "html-search"),
        ("rest-business", "html-business"),
    ):
        difference = pct(times[api_name], 95) - pct(times[page], 95)
        print(f"{api_name} vs {page}: p95 {difference:+.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
