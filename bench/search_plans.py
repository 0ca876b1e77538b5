"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the search service runs for a few typical requests (DATABASE_URL).

Broad words, short prefixes, a narrow name, a category browse, a place browse and a deep page: for each,
every statement the service sends, with its execution time (VERBOSE=1 prints the whole plans).

    DATABASE_URL=... python bench/search_plans.py
"""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")
import re
import statistics
import time

from servicerw.core import db
from servicerw.search.services import SearchParams
from servicerw.settings import Settings

CASES = {
    "broad word 'salon'": SearchParams(q="salon"),
    "short prefix 'sal'": SearchParams(q="sal"),
    "prefix 'kig'": SearchParams(q="kig"),
    "word 'amazi'": SearchParams(q="amazi"),
    "two words + place": SearchParams(q="plumber kicukiro"),
    "narrow name": SearchParams(q="urumuri garage"),
    "synonym 'mekanik'": SearchParams(q="mekanik"),
    "synonym 'gusana telefoni' + place": SearchParams(q="gusana telefoni kicukiro"),
    "province in rw 'iburasirazuba'": SearchParams(q="iburasirazuba"),
    "category browse": SearchParams(category="beauty", sort="rating"),
    "place browse": SearchParams(district="gasabo", sort="rating"),
    "browse page 40": SearchParams(district="gasabo", sort="rating", page=40),
    "'sal' page 60": SearchParams(q="sal", page=60),
}


async def main() -> None:
    from servicerw.assembly import build_services

    settings = Settings()
    services = build_services(settings)
    await db.start_pool(settings.database)
    captured: list[tuple[str, tuple, dict | None]] = []
    real_fetch = db.fetch

    async def capture(sql, *args, settings=None):
        captured.append((sql, args, settings))
        return await real_fetch(sql, *args, settings=settings)

    db.fetch = capture
    verbose = bool(os.environ.get("VERBOSE"))
    try:
        for name, params in CASES.items():
            captured.clear()
            result = await services.search.search(params, "en", use_cache=False)
            statements = list(captured)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                await services.search.search(params, "en", use_cache=False)
                times.append((time.perf_counter() - started) * 1000)
            captured[:] = statements
            print(f"service call median of 5: {statistics.median(times):.1f} ms")
            shown = f"{result.total}{'+' if getattr(result, 'capped', False) else ''}"
            print(f"{name}: total {shown}, {len(captured)} statement(s)")
            for sql, args, local in captured:
                pool = db.engine().pool
                async with pool.acquire() as conn, conn.transaction():
                    for key, value in (local or {}).items():
                        await conn.execute("SELECT set_config($1, $2, true)", key, value)
                    plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args))
                took = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
                hits = sum(int(n) for n in re.findall(r"shared hit=(\d+)", plan.splitlines()[0]))
                print(f"    {took:>8s} ms  top node buffers hit {hits}: {' '.join(sql.split())[:90]}")
                if verbose:
                    print(plan, "\n")
    finally:
        db.fetch = real_fetch
        await db.close_pool()


if __name__ == "__main__":
    asyncio.run(main())
