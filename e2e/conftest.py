"""End-to-end harness: a real server (`servicerw serve`, Granian) on a migrated database with known
businesses, driven by Debian's Chromium through Playwright on a phone-sized viewport."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.services import database_url, postgres_admin_url, recreate_database, start_server, stop_server

ADMIN_URL = postgres_admin_url()
E2E_DB = os.environ.get("E2E_DATABASE_NAME", "servicerw_e2e")
DATABASE_URL = database_url(ADMIN_URL, E2E_DB)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}

BUSINESSES = [
    # name, slug, sub-category, district, sector, featured
    ("Ineza Plumbing", "ineza-plumbing", "plumbers", "Gasabo", "Kimironko", True),
    ("Salon Keza", "salon-keza", "hair-salons", "Kicukiro", "Niboye", True),
    ("Urumuri Auto Garage", "urumuri-auto-garage", "mechanics", "Nyarugenge", "Nyamirambo", False),
]
HOURS = {d: [["07:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}


async def _prepare_database() -> None:
    await recreate_database(ADMIN_URL, E2E_DB)


async def _insert_businesses() -> None:
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for name, slug, category, district, sector, featured in BUSINESSES:
            await conn.execute(
                """INSERT INTO businesses (business_name, slug, description_en, description_rw, description_fr,
                       category_id, location_id, status, is_featured, is_verified, phone, whatsapp_number,
                       opening_hours, services)
                   SELECT $1, $2, $3, $4, $5, c.id, s.id, 'approved', $6, true, '+250788000111', '+250788000111',
                          $7::jsonb, $8::jsonb
                   FROM categories c, locations s JOIN locations d ON d.id = s.district_id
                   WHERE c.slug = $9 AND s.level = 'sector' AND d.name = $10 AND s.name = $11""",
                name,
                slug,
                f"{name} serves customers in {sector} every day.",
                f"{name} ikorera abakiriya i {sector} buri munsi.",
                f"{name} sert ses clients à {sector} tous les jours.",
                featured,
                json.dumps(HOURS),
                json.dumps([{"name_en": "Visit", "name_rw": "Gusura", "name_fr": "Visite", "price_rwf": 5000}]),
                category,
                district,
                sector,
            )
    finally:
        await conn.close()


def _run(coro) -> None:
    """Run a coroutine in its own thread: Playwright's sync API already runs an event loop here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url() -> str:
    """Overrides pytest-base-url: the server started here for the whole e2e run."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "PICCOLO_CONF": "servicerw.piccolo_conf"}
    for name in ("VALKEY_URL", "S3_ENDPOINT_URL", "SERVICERW_ENV"):
        env.pop(name, None)
    env["DATA_DIR"] = str(Path(__file__).resolve().parent.parent / ".data" / "e2e")
    _run(_prepare_database())
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    subprocess.run([servicerw, "migrate"], env=env, check=True, capture_output=True)
    _run(_insert_businesses())
    server, url = start_server(env, _free_port())
    yield url
    stop_server(server)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: `just browser` installs Debian's chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}
