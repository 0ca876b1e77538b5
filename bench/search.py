"""Search benchmark: a fixed mix of >= 200 queries replayed against a running server.

The mix (deterministic for a dataset and --random-seed): exact business names, names with typos, prefixes
typed letter by letter, two words + a place, Kinyarwanda and French words, facet combinations, near me.
Pass 1 runs on an empty cache (uncached: each query is distinct), pass 2 repeats the mix (cached).
The cache is emptied by flushing the server's Valkey database (VALKEY_URL), so run the server with one; the
processes' in-process page caches follow within PAGE_CACHE_VERSION_TTL, which each round waits out.

    DATABASE_URL=... VALKEY_URL=... python bench/search.py --url http://127.0.0.1:8000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import time
from urllib.parse import urlencode

import asyncpg
import httpx
from stats import line
from valkey.asyncio import Valkey

TIMING = re.compile(r"app;dur=([0-9.]+)")
COUNT = re.compile(r"([\d,.\u202f\xa0 ]+)(\+?) (?:business|businesses) found")
RW_WORDS = ["imisatsi", "imodoka", "amazi", "inkweto", "imyenda", "ibiryo", "gusana", "umudozi", "amavuta", "telefone"]
FR_WORDS = [
    "coiffure",
    "plombier",
    "réparation",
    "traiteur",
    "couture",
    "mécanicien",
    "pharmacie",
    "menuisier",
    "électricien",
    "boulangerie",
]
EN_WORDS = [
    "plumber",
    "salon",
    "mechanic",
    "tailor",
    "caterer",
    "barber",
    "pharmacy",
    "photographer",
    "laundry",
    "carpenter",
    "electrician",
    "bakery",
    "garage",
    "dentist",
    "printing",
]


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "swap", "double", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiou") + word[i + 1 :]


async def build_mix(dsn: str, seed: int) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    conn = await asyncpg.connect(dsn)
    try:
        names = [
            r[0]
            for r in await conn.fetch(
                "SELECT business_name FROM businesses WHERE status = 'approved' AND is_active ORDER BY id"
            )
        ]
        sectors = [r[0] for r in await conn.fetch("SELECT name FROM locations WHERE level = 'sector' ORDER BY id")]
        districts = [
            dict(r)
            for r in await conn.fetch(
                "SELECT slug, name, latitude, longitude FROM locations WHERE level = 'district' ORDER BY id"
            )
        ]
        categories = [r[0] for r in await conn.fetch("SELECT slug FROM categories ORDER BY id")]
    finally:
        await conn.close()
    mix: list[tuple[str, dict]] = []
    for name in rng.sample(names, 40):
        mix.append(("exact name", {"q": name}))
    for name in rng.sample(names, 30):
        words = name.split()
        if rng.random() < 0.5 and len(words) > 1:
            words[rng.randrange(len(words))] = typo(words[rng.randrange(len(words))], rng)
        else:
            words = [typo(w, rng) for w in words[:2]]
        mix.append(("typo", {"q": " ".join(words)}))
    for word in rng.sample(EN_WORDS, 6) + rng.sample(names, 4):
        word = word.split()[0].lower()
        for n in range(2, min(len(word), 7) + 1):
            mix.append(("prefix as typed", {"q": word[:n]}))
    for _ in range(30):
        mix.append(
            (
                "two words + place",
                {"q": f"{rng.choice(EN_WORDS)} {rng.choice(sectors + [d['name'] for d in districts])}"},
            )
        )
    for word in RW_WORDS:
        mix.append(("kinyarwanda", {"q": word}))
    for word in FR_WORDS:
        mix.append(("french", {"q": word}))
    for _ in range(30):
        params: dict = {"category": rng.choice(categories)}
        if rng.random() < 0.7:
            params["district"] = rng.choice(districts)["slug"]
        if rng.random() < 0.3:
            params["verified"] = "1"
        if rng.random() < 0.3:
            params["min_rating"] = "4"
        if rng.random() < 0.3:
            params["open_now"] = "1"
        if rng.random() < 0.3:
            params["q"] = rng.choice(EN_WORDS)
        mix.append(("facets", params))
    for _ in range(20):
        d = rng.choice(districts)
        lat = d["latitude"] + rng.uniform(-0.03, 0.03)
        lng = d["longitude"] + rng.uniform(-0.03, 0.03)
        params = {"near": f"{lat:.5f},{lng:.5f}", "sort": "distance", "radius_km": rng.choice(["5", "10", "25"])}
        if rng.random() < 0.6:
            params["q"] = rng.choice(EN_WORDS)
        mix.append(("near me", params))
    unique: dict[str, tuple[str, dict]] = {}
    for kind, params in mix:
        unique.setdefault(urlencode(sorted(params.items())), (kind, params))
    return list(unique.values())


async def run_pass(client: httpx.AsyncClient, url: str, mix, language: str, concurrency: int):
    results: list[tuple[str, float, int]] = []
    queue = list(mix)

    async def worker():
        while queue:
            kind, params = queue.pop()
            response = await client.get(
                url + "/search", params=params, headers={"accept": "text/html", "accept-language": language}
            )
            if response.status_code != 200:
                raise SystemExit(f"{params} answered {response.status_code}")
            server = float(TIMING.search(response.headers["server-timing"]).group(1))
            found = COUNT.search(response.text)
            total = int(re.sub(r"\D", "", found.group(1))) if found else -1
            results.append((kind, server, -total if found and found.group(2) else total))  # negative: "1,000+"

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--language", default="en")
    parser.add_argument("--random-seed", type=int, default=5)
    parser.add_argument(
        "--version-wait", type=float, default=1.5, help="seconds after the flush (above PAGE_CACHE_VERSION_TTL)"
    )
    args = parser.parse_args()
    dsn, valkey_url = os.environ.get("DATABASE_URL"), os.environ.get("VALKEY_URL")
    if not dsn or not valkey_url:
        raise SystemExit("set DATABASE_URL and VALKEY_URL to those of the running server")
    mix = await build_mix(dsn, args.random_seed)
    conn = await asyncpg.connect(dsn)
    businesses = await conn.fetchval("SELECT count(*) FROM business_search")
    await conn.close()
    print(
        f"{len(mix)} distinct queries, {businesses:,} public businesses, server {args.url}, "
        f"concurrency {args.concurrency}, {args.rounds} rounds"
    )
    valkey = Valkey.from_url(valkey_url)
    uncached, cached = [], []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=args.concurrency)) as client:
        await run_pass(client, args.url, mix[:20], args.language, args.concurrency)  # warm-up
        for _ in range(args.rounds):
            await valkey.flushdb()
            # Each server process keeps its page cache's data version for PAGE_CACHE_VERSION_TTL (1 s): until it
            # reads the version again (gone with the flush, so it starts a new one), its in-process copies of the
            # last round's pages would still answer, and the "uncached" pass would be partly cached.
            await asyncio.sleep(args.version_wait)
            started = time.perf_counter()
            uncached += await run_pass(client, args.url, mix, args.language, args.concurrency)
            cached += await run_pass(client, args.url, mix, args.language, args.concurrency)
            print(f"  round done in {time.perf_counter() - started:.1f} s")
    await valkey.aclose()
    print(line("uncached (all)", [s for _k, s, _t in uncached]))
    print(line("cached (all)", [s for _k, s, _t in cached]))
    for kind in dict.fromkeys(k for k, _s, _t in uncached):
        print(line(f"  uncached {kind}", [s for k, s, _t in uncached if k == kind]))
    totals = [abs(t) for _k, _s, t in uncached[: len(mix)]]
    print(
        f"result counts: median {statistics.median(totals):.0f}, max {max(totals)}, "
        f"zero results {sum(1 for t in totals if t == 0)} of {len(totals)}, "
        f'capped ("1,000+") {sum(1 for _k, _s, t in uncached[: len(mix)] if t < 0)}'
    )


if __name__ == "__main__":
    asyncio.run(main())
