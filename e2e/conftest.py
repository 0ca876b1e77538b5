"""End-to-end harness: a real server (`servicerw serve`, Granian) on a migrated database with known
businesses, driven by Debian's Chromium through Playwright on a phone-sized viewport.

The database is the run's own, `servicerw_e2e_<pid>` (E2E_DATABASE_NAME overrides the name), on the server
tests/services.py finds; it is dropped when the run ends, and the databases of killed runs on this host are
dropped when one starts. What the test modules share is in e2e/helpers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from e2e.helpers import ADMIN_URL, DATABASE_URL, E2E_DB, PHONE, run, scripts_ready
from tests.helpers import free_port
from tests.services import drop_abandoned_databases, drop_database, recreate_database, start_server, stop_server


def _install_navigation_waits() -> None:
    """Every `goto`/`reload`/`go_back` of the run returns once the page's scripts run (e2e.helpers.scripts_ready),
    and every context remembers whether it has JavaScript (Playwright does not say)."""
    new_context = Browser.new_context

    def new_context_remembering_javascript(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        context.javascript_enabled = kwargs.get("java_script_enabled", True) is not False
        return context

    Browser.new_context = new_context_remembering_javascript
    for name in ("goto", "reload", "go_back"):
        navigate = getattr(Page, name)

        def navigate_and_wait(self, *args, _navigate=navigate, **kwargs):
            response = _navigate(self, *args, **kwargs)
            if response is not None and "text/html" in response.headers.get("content-type", ""):
                scripts_ready(self)
            return response

        setattr(Page, name, navigate_and_wait)


_install_navigation_waits()

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

BUSINESSES = [
    # name, slug, sub-category, district, sector, featured
    ("Ineza Plumbing", "ineza-plumbing", "plumbers", "Gasabo", "Kimironko", True),
    ("Salon Keza", "salon-keza", "hair-salons", "Kicukiro", "Niboye", True),
    ("Urumuri Auto Garage", "urumuri-auto-garage", "mechanics", "Nyarugenge", "Nyamirambo", False),
]
HOURS = {d: [["07:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}


async def _prepare_database() -> None:
    await drop_abandoned_databases(ADMIN_URL)
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


@pytest.fixture(scope="session")
def base_url() -> str:
    """Overrides pytest-base-url: the server started here for the whole e2e run."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "PICCOLO_CONF": "servicerw.piccolo_conf"}
    for name in ("VALKEY_URL", "S3_ENDPOINT_URL", "SERVICERW_ENV"):
        env.pop(name, None)
    env["DATA_DIR"] = str(Path(__file__).resolve().parent.parent / ".data" / "e2e")
    # Every browser of the run comes from 127.0.0.1 and the run signs up and logs in more than 10 times a
    # minute; the limit itself is tested in tests/ (test_account_hardening, test_login_limits).
    env.setdefault("ACCOUNT_POSTS_PER_MINUTE", "1000")
    env.setdefault("RUM_SAMPLE_RATE", "1")  # every page view sends its vitals (e2e/test_rum.py)
    run(_prepare_database())
    try:
        servicerw = str(Path(sys.executable).with_name("servicerw"))
        subprocess.run([servicerw, "migrate"], env=env, check=True, capture_output=True)
        run(_insert_businesses())
        server, url = start_server(env, free_port())
        try:
            yield url
        finally:
            stop_server(server)
    finally:
        run(drop_database(ADMIN_URL, E2E_DB))


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
