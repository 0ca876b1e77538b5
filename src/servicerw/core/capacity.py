"""Requests in flight: shed what is beyond capacity at once, and let them finish before shutting down.

`InFlight.wrap` wraps the app's whole ASGI handler (outside Litestar's routing and middleware, so refusing
costs no template, session, Valkey or database work). Beyond `MAX_IN_FLIGHT` requests in one process it
answers 503 with `Retry-After` at once instead of letting queues (and memory) grow until clients time out:
an HTML page, an htmx fragment, or a problem document under /api and /graphql. /healthz, /readyz and
/metrics are never refused (probes and scrapes must see the process even when it is busy).

Granian's `--backpressure` only makes excess requests wait (no answer), and Litestar has no concurrency
limit: hence this small counter. On SIGTERM Granian (2.8) stops accepting and waits for the requests of
open connections, but not for those whose client has gone (a load generator's or a browser's timeout):
they would meet a closed pool. The lifespan shutdown first waits here (`drain`) until nothing runs, then
closes the pool and stores; a request arriving after that gets a 503, not a 500.

A refusal must cost next to nothing and must not invite the next request at once: under a flood of
connections that ask again as soon as they are answered (`just bench-load --flood`), 503s answered on kept-alive
connections came back ~7,800 times a second, and the admitted requests starved behind them in the event loop
(298 pages answered in 30 s). So the refusal's bytes are made once per language and kind, and it carries
`Connection: close`: the client has to connect again (Granian accepts in Rust, outside our event loop), which
paces the flood and leaves the loop to the requests it admitted.
"""

from __future__ import annotations

import asyncio
import html
import json

from litestar.types import ASGIApp, Receive, Scope, Send

from servicerw.core import i18n
from servicerw.core.security import _security_headers
from servicerw.core.web import language_for_scope
from servicerw.settings import Settings

NEVER_REFUSED = ("/healthz", "/readyz", "/metrics")
API_PREFIXES = ("/api/", "/graphql")
RETRY_AFTER = "1"
BUSY_MESSAGE = "The service is briefly unavailable. Try again in a moment."


class InFlight:
    def __init__(self, settings: Settings) -> None:
        self.limit = settings.server.max_in_flight
        self.count = 0  # every request being answered (the drain waits for these)
        self.limited = 0  # those that count against the limit
        self.shed = 0  # requests refused so far
        self.draining = False
        self.closed = False  # the drain is over (pool and stores closing): what still arrives gets a 503
        self.started = 0  # requests begun so far (the drain waits until none begins for a moment)
        self._idle = asyncio.Event()
        self._idle.set()
        storage = settings.storage
        self._headers = [
            (name.encode(), value.encode())
            for name, value in _security_headers(
                storage.public_base_url or storage.endpoint_url, settings.server.production
            )
        ]
        self._answers: dict[tuple[str, str], tuple[list[tuple[bytes, bytes]], bytes]] = {}  # (kind, lang) → answer

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def handler(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            counted = not scope["path"].startswith(NEVER_REFUSED)
            if self.closed or (counted and self.limit and self.limited >= self.limit):
                self.shed += 1
                await self._refuse(scope, send)
                return
            self.started += 1
            self.count += 1
            self.limited += counted
            self._idle.clear()
            try:
                await app(scope, receive, send)
            finally:
                self.count -= 1
                self.limited -= counted
                if self.count == 0:
                    self._idle.set()

        return handler

    async def drain(self, timeout: float, quiet: float = 0.3) -> int:  # noqa: ASYNC109 - the shutdown's deadline
        """Wait, at most `timeout` seconds, until no request is in flight and none has begun for `quiet` seconds
        (Granian may still hand over requests it had read before the signal); returns how many were still
        running. Requests arriving after it get 503 + Retry-After (never a 500 from a closed pool)."""
        self.draining = True
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._idle.wait()
                    started = self.started
                    await asyncio.sleep(quiet)
                    if self.count == 0 and self.started == started:
                        break
        except TimeoutError:
            pass
        self.closed = True
        return self.count

    async def _refuse(self, scope: Scope, send: Send) -> None:
        path = scope["path"]
        if path.startswith(API_PREFIXES) or path == "/api":
            kind, lang = "api", ""
        else:
            lang = language_for_scope(scope)
            kind = "fragment" if (b"hx-request", b"true") in (scope.get("headers") or ()) else "page"
        answer = self._answers.get((kind, lang))
        if answer is None:
            answer = self._answers[(kind, lang)] = self._answer(kind, lang)
        headers, body = answer
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    def _answer(self, kind: str, lang: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The refusal's headers and body for an API client, an htmx request or a page in `lang`."""
        if kind == "api":
            body = json.dumps(
                {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": BUSY_MESSAGE}
            ).encode()
            content_type = b"application/problem+json"
        else:
            with i18n.using(lang):
                message = html.escape(i18n.gettext(BUSY_MESSAGE))
            if kind == "fragment":
                body = f'<p class="error" role="alert">{message}</p>'.encode()
            else:
                body = (
                    f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                    f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                    f"<title>ServiceRW</title></head><body><h1>503</h1><p>{message}</p>"
                    f'<p><a href="">ServiceRW</a></p></body></html>'
                ).encode()
            content_type = b"text/html; charset=utf-8"
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", RETRY_AFTER.encode()),
            (b"cache-control", b"no-store"),
            (b"connection", b"close"),
            *self._headers,
        ]
        return headers, body
