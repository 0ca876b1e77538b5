"""Lighthouse (tools/package-lock.json, `just tools`) on the home page, a search and a profile, as a phone sees
them: Lighthouse's mobile defaults (Moto G Power screen, simulated Slow 4G and 4x slower CPU), Debian's Chromium
(CHROME_PATH, default /usr/bin/chromium). Prints per page the four scores (performance, accessibility, best
practices, SEO), LCP, and every audit that cost a score.

Starts `servicerw serve` (one worker) on DATABASE_URL — the 20,000-business bench database is the one to use —
unless `--url` names a running server; each page is asked for once before (a warm server and page cache, as
for most visitors). Heavy (a minute or more per page on a busy machine): run it once.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/servicerw_bench just bench-lighthouse
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import httpx
from api import start

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "tools" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


async def busiest_profile(dsn: str) -> str:
    """The public business with the most reviews (a long profile page)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT slug FROM businesses WHERE status = 'approved' AND is_active ORDER BY review_count DESC, id LIMIT 1"
        )
    finally:
        await conn.close()


def lighthouse(url: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
         f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}"],
        env=env,
        check=True,
        timeout=600,
    )  # fmt: skip
    return json.loads(out.read_text())


def report(name: str, result: dict) -> None:
    scores = {c: round(100 * (result["categories"][c]["score"] or 0)) for c in CATEGORIES}
    lcp = result["audits"]["largest-contentful-paint"]["numericValue"] / 1000
    print(
        f"{name:8s} performance {scores['performance']:3d}  accessibility {scores['accessibility']:3d}  "
        f"best practices {scores['best-practices']:3d}  SEO {scores['seo']:3d}  LCP {lcp:.2f} s  "
        f"FCP {result['audits']['first-contentful-paint']['numericValue'] / 1000:.2f} s  "
        f"TBT {result['audits']['total-blocking-time']['numericValue']:.0f} ms  "
        f"CLS {result['audits']['cumulative-layout-shift']['numericValue']:.3f}"
    )
    for category in CATEGORIES:
        for ref in result["categories"][category]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                print(f"         {category}: {audit['id']} {audit['score']:.2f} {audit.get('displayValue', '')}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one on DATABASE_URL)")
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--search", default="/search?q=salon")
    parser.add_argument("--profile", help="a business slug (default: the one with the most reviews)")
    parser.add_argument("--keep", type=Path, help="a folder to keep Lighthouse's JSON reports in")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: `just tools` installs it")
    dsn = os.environ.get("DATABASE_URL", "")
    slug = args.profile or await busiest_profile(dsn)
    server = None if args.url else start(args.port)
    base = args.url or f"http://127.0.0.1:{args.port}"
    pages = {"home": "/", "search": args.search, "profile": f"/b/{slug}"}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for path in pages.values():  # warm: the server's caches, as for most visitors
                (await client.get(path, headers={"accept-encoding": "br, gzip"})).raise_for_status()
        print(f"Lighthouse mobile (simulated Slow 4G, 4x CPU), {base}, load average {os.getloadavg()[0]:.2f}")
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            for name, path in pages.items():
                report(name, lighthouse(base + path, folder / f"{name}.json"))
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)


if __name__ == "__main__":
    asyncio.run(main())
