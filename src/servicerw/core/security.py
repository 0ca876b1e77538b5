"""Security headers on every response, and a Server-Timing header for benchmarks.

Headers given to `Litestar(response_headers=...)` are missing on 404/405/500 responses produced
outside a route, so they are added in an app-level `before_send` hook, which sees every response.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl

from litestar._parsers import parse_cookie_string
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.types import Message, Scope

from servicerw.core.forms import INT4_MAX, has_control_characters
from servicerw.core.static import BOOT_SCRIPT_SOURCE
from servicerw.settings import Settings

TIMING_KEY = "servicerw_t0"


def _security_headers(img_sources: str, production: bool) -> list[tuple[str, str]]:
    csp = (
        f"default-src 'self'; img-src 'self' data: {img_sources}".rstrip()
        + f"; style-src 'self'; script-src 'self' {BOOT_SCRIPT_SOURCE}; connect-src 'self'; "
        "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
        "object-src 'none'"
    )
    headers = [
        ("content-security-policy", csp),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", "geolocation=(self), camera=(), microphone=()"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if production:
        headers.append(("strict-transport-security", "max-age=63072000; includeSubDomains"))
    return headers


def make_before_send(settings: Settings):
    image_origin = settings.storage.public_base_url or settings.storage.endpoint_url
    headers = _security_headers(image_origin, settings.server.production)
    encoded = [(name.encode(), value.encode()) for name, value in headers]

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        # The names present, looked up once: MutableScopeHeaders would scan every header for each name (a
        # noticeable share of a page served from the page cache).
        raw = message.setdefault("headers", [])
        if not isinstance(raw, list):
            raw = message["headers"] = list(raw)
        present = {key.lower() for key, _value in raw}
        raw.extend((name, value) for name, value in encoded if name not in present)
        started = scope.get("state", {}).get(TIMING_KEY)
        if started is not None:
            mutable = MutableScopeHeaders.from_message(message)
            mutable["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"

    return before_send


def timing_middleware(app):
    """Records when the request entered the app, for the Server-Timing header."""

    async def middleware(scope, receive, send):
        scope.setdefault("state", {})[TIMING_KEY] = time.perf_counter()
        await app(scope, receive, send)

    return middleware


CSRF_FIELD = "_csrf_token"
CSRF_COOKIES = ("csrftoken", "__Host-csrftoken")
_FORM = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"
# Bodies larger than the largest a route accepts (6 photos of 10 MB) are not read here: the route's own size
# limit refuses them (413) before any handler sees a field.
_MAX_SCANNED_BODY = 64 * 1024 * 1024


def N_(message: str) -> str:  # noqa: N802 - Babel's marker name: extracted, translated when shown
    return message


CONTROL_MESSAGE = N_("Text with control characters (such as NUL) or invalid characters cannot be accepted.")
CSRF_MESSAGE = N_("The form's security token is not valid: reload the page and try again.")


class InvalidInput(ValidationException):
    """Text the app cannot take (control characters, bytes that are not UTF-8): a 400 with a clear message
    (`detail`, an English msgid translated by the error handler)."""


def _check_text(*values: str) -> None:
    if has_control_characters(*values):
        raise InvalidInput(detail=CONTROL_MESSAGE)


def _check_pairs(pairs: list[tuple[str, str]], text: bool = True) -> None:
    for key, value in pairs:
        if key == CSRF_FIELD and not value.isascii():
            raise PermissionDeniedException(detail=CSRF_MESSAGE)
        if text:
            _check_text(key, value)


def _urlencoded(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(detail=CONTROL_MESSAGE) from exc


def _multipart_fields(content_type: bytes, body: bytes) -> list[tuple[str, str]]:
    """The text fields of a multipart body (parts without a file name); files are checked by their handlers."""
    match = re.search(rb'boundary="?([^";]+)"?', content_type)
    if not match:
        return []
    fields = []
    for part in body.split(b"--" + match.group(1)):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep or b"filename=" in head.lower():
            continue
        name = re.search(rb'name="([^"]*)"', head)
        value = value[:-2] if value.endswith(b"\r\n") else value
        try:
            fields.append(((name.group(1) if name else b"").decode(), value.decode()))
        except UnicodeDecodeError as exc:
            raise InvalidInput(detail=CONTROL_MESSAGE) from exc
    return fields


def input_guard(app):
    """Input checked once, at the edge, for every route: a path, query string or form field (urlencoded or
    multipart) holding NUL or another control character (tab and newlines aside), or bytes that are not
    UTF-8, gets a 400 with a clear message instead of reaching PostgreSQL (which cannot store NUL: asyncpg
    would raise, a 500). A CSRF token (header, cookie or `_csrf_token` field) that is not plain ASCII gets a
    403: Litestar's CSRF check would raise a TypeError (a 500) comparing it."""

    async def middleware(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        _check_text(scope.get("path", ""))
        for value in (scope.get("path_params") or {}).values():
            # every id in a path is a PostgreSQL integer: one out of its range cannot exist (asyncpg would raise)
            if isinstance(value, int) and not 0 < value <= INT4_MAX:
                raise NotFoundException()
        handler = scope.get("route_handler")
        text = not (handler is not None and (handler.opt or {}).get("own_text_checks"))
        _check_pairs(_urlencoded(scope.get("query_string", b"")), text)
        headers = dict(scope.get("headers", []))
        cookie_header = b"; ".join(value for key, value in scope.get("headers", []) if key == b"cookie")
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await app(scope, receive, send)
            return
        if not headers.get(b"x-csrftoken", b"").isascii() or not cookie_header.isascii():
            raise PermissionDeniedException(detail=CSRF_MESSAGE)
        cookies = parse_cookie_string(cookie_header.decode("latin-1"))
        if not all(cookies.get(name, "").isascii() for name in CSRF_COOKIES):
            raise PermissionDeniedException(detail=CSRF_MESSAGE)
        content_type = headers.get(b"content-type", b"").lower()
        length = headers.get(b"content-length", b"0")
        too_long = not length.isdigit() or len(length) > 12 or int(length) > _MAX_SCANNED_BODY
        if not content_type.startswith((_FORM, _MULTIPART)) or too_long:
            await app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > _MAX_SCANNED_BODY:
                break
        body = b"".join(chunks)
        if not more:
            if content_type.startswith(_FORM):
                _check_pairs(_urlencoded(body), text)
            else:
                _check_pairs(_multipart_fields(headers.get(b"content-type", b""), body), text)
        await app(scope, _replay([{"type": "http.request", "body": body, "more_body": more}], receive), send)

    return middleware


def _replay(messages: list, receive):
    """A `receive` that gives back what was already read, then reads on."""

    async def replayed():
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed
