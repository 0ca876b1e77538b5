"""Per-request language selection, and the template globals every page uses."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.plugins.htmx import HTMXRequest
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from markupsafe import Markup, escape

from servicerw.core import i18n

KIGALI = ZoneInfo("Africa/Kigali")  # Rwanda has one time zone and no daylight saving


def header_value(scope: Scope, name: bytes) -> str | None:
    """A request header's value (`name` in lower case; None without it)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def cookie_value(scope: Scope, name: str) -> str | None:
    """A request cookie's value (None without it)."""
    raw = header_value(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _sep, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def language_for_scope(scope: Scope) -> str:
    return i18n.negotiate(cookie_value(scope, i18n.COOKIE_NAME), header_value(scope, b"accept-language"))


def marking_html(send: Send, vary: str, headers: dict[str, str] | None = None) -> Send:
    """`send`, where an HTML answer gets `vary` added to its Vary header (and `headers` set): for what the page
    depends on besides the URL."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            current = MutableScopeHeaders.from_message(message)
            if (current.get("content-type") or "").startswith("text/html"):
                for name, value in (headers or {}).items():
                    current[name] = value
                current.add("vary", vary)
        await send(message)

    return wrapped


def language_middleware(app: ASGIApp) -> ASGIApp:
    """Activates the request's language and marks HTML responses as varying by it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        lang = language_for_scope(scope)
        i18n.activate(lang)
        scope.setdefault("state", {})["lang"] = lang
        await app(scope, receive, marking_html(send, "Accept-Language, Cookie", {"content-language": lang}))

    return middleware


def preference_cookie(key: str, value: str, secure: bool = False) -> Cookie:
    """A visitor's preference (language, data saver) for a year; `secure` (production: HTTPS only) keeps it off
    plain-HTTP requests."""
    return Cookie(key=key, value=value, max_age=365 * 24 * 3600, httponly=True, samesite="lax", path="/", secure=secure)


def language_cookie(lang: str, secure: bool = False) -> Cookie:
    """The visitor's language choice."""
    return preference_cookie(i18n.COOKIE_NAME, lang, secure)


def answer_head_as_get(app: ASGIApp) -> ASGIApp:
    """HEAD is answered as the GET of the same URL without its body (same status and headers, Content-Length
    included), as HTTP requires; Litestar's `@get` routes would otherwise answer 405. Wraps the app's whole
    ASGI handler (`app.asgi_handler`), since routing by method happens before any middleware."""

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return
        scope["method"] = "GET"
        extensions = scope.get("extensions") or {}
        scope["extensions"] = {k: v for k, v in extensions.items() if k != "http.response.pathsend"}
        finished = False

        async def send_without_body(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished or message.get("more_body", False):
                    return
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(scope, receive, send_without_body)

    return handler


def format_rwf(amount: int | float | None) -> str:
    if amount is None:
        return ""
    return f"{_format(amount, i18n.current_language(), '#,##0')} RWF"


def format_count(value: int) -> str:
    """A whole number with the language's thousands separator: 1,000 / 1 000."""
    return _format(value, i18n.current_language(), "#,##0")


def format_number(value: float, digits: int = 1) -> str:
    return _format(round(value, digits), i18n.current_language(), "0." + "0" * digits)


@lru_cache(maxsize=4096)
def _format(value: float, lang: str, pattern: str) -> str:
    # Babel's number formatting is slow per call, and pages repeat the same few values (ratings, prices).
    return format_decimal(value, locale=i18n.babel_locale(lang), format=pattern)


_DAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def day_name(day: str) -> str:
    """The weekday's name in the current language (from Babel's CLDR data)."""
    from babel.dates import get_day_names

    return get_day_names("wide", locale=i18n.babel_locale())[_DAY_INDEX[day]].capitalize()


def wants_fragment(request: HTMXRequest) -> bool:
    """htmx asked for a part of the page: not a boosted navigation, nor a Back/Forward history restore
    (both need the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request and not request.htmx.boosted


def format_date(value: date | datetime | str | None, with_time: bool = False) -> str:
    """A date (or date and time, in Kigali time) in the current language; accepts ISO strings (cached data)."""
    from babel.dates import format_date as babel_date
    from babel.dates import format_time

    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if with_time else date.fromisoformat(value[:10])
    locale = i18n.babel_locale()
    if with_time and isinstance(value, datetime):
        local = value.astimezone(KIGALI)
        return f"{babel_date(local.date(), 'medium', locale=locale)}, {format_time(local, 'short', locale=locale)}"
    if isinstance(value, datetime):
        value = value.astimezone(KIGALI).date()
    return babel_date(value, "medium", locale=locale)


def selected(options: str, value: str) -> Markup:
    """The options with `value` marked as selected (values are slugs: [a-z0-9-] only)."""
    if not value:
        return Markup(options)
    return Markup(options.replace(f'value="{escape(value)}"', f'value="{escape(value)}" selected', 1))
