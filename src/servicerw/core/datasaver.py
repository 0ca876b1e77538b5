"""Data saver: the visitor's wish to download no photo until tapped.

Asked for by the browser (`Save-Data: on`, a client hint Chromium sends in its lite mode and Android's data
saver) or by the toggle in every page's footer, remembered in the `data_saver` cookie ("on" / "off"). The cookie
wins both ways: a visitor can turn it off although the browser sends Save-Data. The state is decided once per
request by `datasaver_middleware` (into `scope["state"]["data_saver"]`, read by the page cache's key, and a
context variable read by the templates' `data_saver()`); HTML answers carry `Vary: Save-Data`.
"""

from __future__ import annotations

import math
from contextvars import ContextVar

from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

from servicerw.core.i18n import gettext
from servicerw.core.web import cookie_value, header_value, marking_html, preference_cookie

COOKIE_NAME = "data_saver"
_active: ContextVar[bool] = ContextVar("servicerw_data_saver", default=False)


def wanted(cookie: str | None, save_data: str | None) -> bool:
    """The cookie's choice if it made one, else the browser's `Save-Data` header."""
    if cookie in ("on", "off"):
        return cookie == "on"
    return (save_data or "").strip().lower() == "on"


def for_scope(scope: Scope) -> bool:
    return wanted(cookie_value(scope, COOKIE_NAME), header_value(scope, b"save-data"))


def active() -> bool:
    """Is this request in data-saver mode? (Template global `data_saver()`.)"""
    return _active.get()


def datasaver_middleware(app: ASGIApp) -> ASGIApp:
    """Decides the mode once per request; HTML answers vary by `Save-Data` (the cookie is in `Vary: Cookie`)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        on = for_scope(scope)
        _active.set(on)
        scope.setdefault("state", {})["data_saver"] = on
        await app(scope, receive, marking_html(send, "Save-Data"))

    return middleware


def datasaver_cookie(on: bool, secure: bool = False) -> Cookie:
    """The visitor's choice for a year (a preference, like the language: no account state)."""
    return preference_cookie(COOKIE_NAME, "on" if on else "off", secure)


def photo_label(size: int | None, short: bool = False) -> str:
    """What a photo's placeholder says: its size in KB (rounded up), or nothing about size when unknown
    (photos processed before sizes were recorded)."""
    if not size:
        return gettext("Photo — tap to load")
    kb = max(1, math.ceil(size / 1024))
    if short:
        return gettext("Photo, %(kb)s KB", kb=kb)
    return gettext("Photo, %(kb)s KB — tap to load", kb=kb)
