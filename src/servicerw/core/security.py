"""Security headers on every response, and a Server-Timing header for benchmarks.

Headers given to `Litestar(response_headers=...)` are missing on 404/405/500 responses produced
outside a route, so they are added in an app-level `before_send` hook, which sees every response.
"""

from __future__ import annotations

import time

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from servicerw.settings import Settings

TIMING_KEY = "servicerw_t0"


def _security_headers(img_sources: str, production: bool) -> list[tuple[str, str]]:
    csp = (
        f"default-src 'self'; img-src 'self' data: {img_sources}".rstrip()
        + "; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
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

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        mutable = MutableScopeHeaders.from_message(message)
        for name, value in headers:
            if name not in mutable:
                mutable[name] = value
        started = scope.get("state", {}).get(TIMING_KEY)
        if started is not None:
            mutable["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"

    return before_send


def timing_middleware(app):
    """Records when the request entered the app, for the Server-Timing header."""

    async def middleware(scope, receive, send):
        scope.setdefault("state", {})[TIMING_KEY] = time.perf_counter()
        await app(scope, receive, send)

    return middleware


def csrf_token_guard(app):
    """Refuses (403) an unsafe request whose CSRF header or cookie is not plain ASCII: Litestar's CSRF
    check answers such a token with a 500 instead of a 403."""

    async def middleware(scope, receive, send):
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            for key, value in scope.get("headers", []):
                if key in (b"x-csrftoken", b"cookie") and not value.isascii():
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"Forbidden: invalid CSRF token"})
                    return
        await app(scope, receive, send)

    return middleware
