"""Helpers shared by the end-to-end tests (test modules import from here, never from each other or from
the conftest): the run's database, running a coroutine beside Playwright, signing up, waiting for htmx."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Page, expect

from tests.services import database_url, postgres_admin_url, run_database_name

ADMIN_URL = postgres_admin_url()
E2E_DB = run_database_name("servicerw_e2e", "E2E_DATABASE_NAME")
DATABASE_URL = database_url(ADMIN_URL, E2E_DB)  # the run's database, which the server uses
PHONE = {"width": 390, "height": 844}
STRONG = "inkoko zirarira kare"  # a password the accounts accept

# htmx marks what it is working on: the element that sent a request (htmx-request), what is being
# swapped in (htmx-swapping, htmx-added) and settled (htmx-settling). None left = htmx is done.
_HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


# boot.js runs the page's scripts (htmx first) at the first idle moment after the load event, so a test that
# goes on as soon as a page has loaded would act before htmx: after a navigation the harness waits for
# <html data-scripts="ready"> ("loading" while they load), as a person waits for a page to finish; pages
# without such scripts, and contexts with JavaScript off, at once.
_SCRIPTS_READY = (
    "() => document.documentElement.dataset.scripts === 'ready'"
    " || (!document.documentElement.dataset.scripts && !document.querySelector('script[data-later]'))"
)


def scripts_ready(page: Page, timeout: float = 15000) -> None:
    """Wait until boot.js has run the page's scripts (instant with JavaScript off)."""
    if getattr(page.context, "javascript_enabled", True):
        page.wait_for_function(_SCRIPTS_READY, timeout=timeout)


def run(coro):
    """Run a coroutine in its own thread (Playwright's sync API already runs an event loop here); returns
    its result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def htmx_settled(page: Page, timeout: float = 15000) -> None:
    """Wait until htmx has sent, swapped and settled everything it started (instant without JavaScript)."""
    page.wait_for_function(f"() => !document.querySelector({_HTMX_BUSY!r})", timeout=timeout)


def sign_up(page: Page, base_url: str, email: str) -> None:
    """Sign up as a business owner through the form; ends on the account page, logged in."""
    page.goto(base_url + "/account/signup")
    page.get_by_label("list my business").check()
    page.get_by_label("Your name").fill("Aline Uwase")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STRONG)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
