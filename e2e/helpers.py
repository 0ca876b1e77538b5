"""Helpers shared by the end-to-end tests (test modules import from here, never from each other)."""

from __future__ import annotations

from playwright.sync_api import Page

# htmx marks what it is working on: the element that sent a request (htmx-request), what is being
# swapped in (htmx-swapping, htmx-added) and settled (htmx-settling). None left = htmx is done.
_HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def htmx_settled(page: Page, timeout: float = 15000) -> None:
    """Wait until htmx has sent, swapped and settled everything it started (instant without JavaScript)."""
    page.wait_for_function(f"() => !document.querySelector({_HTMX_BUSY!r})", timeout=timeout)
