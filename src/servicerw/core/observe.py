"""Every request, observed once: its id, one JSON access-log line, and the HTTP metrics.

`observe_requests` wraps the app's whole ASGI handler (like `answer_head_as_get`), because Litestar runs
middleware only for paths that matched a route: unknown paths (404), wrong methods (405) and errors raised
before a handler are seen here too.

- Request id: the `X-Request-ID` a trusted proxy (TRUSTED_PROXIES) sent, if it is short and made of safe
  characters; else a new one. It is bound in structlog's context variables for the whole request, so every
  line logged meanwhile (the 500 handler's included) carries it, and returned in the `X-Request-ID` header.
- Access log (`ACCESS_LOG`, on by default): event `request` with request_id, method, route, path (without the
  query string, which may hold tokens), status, duration_ms and client (the address as `client_address`
  resolves it behind trusted proxies). Granian's own access log stays off.
- Metrics (core/metrics.py): `http_requests_total`, `http_request_duration_seconds` by method, route template
  (e.g. `/b/{slug:str}`; `unmatched` for paths no route serves, so that scanners cannot add series) and
  status, and `http_requests_in_flight`.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from servicerw.core.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS
from servicerw.core.sessions import client_address, peer_is_trusted
from servicerw.settings import Settings

log = structlog.get_logger("servicerw.access")

REQUEST_ID = "x-request-id"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "unmatched"  # the route label of paths no route serves
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
MAX_LOGGED_PATH = 512


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def request_id_for(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """The trusted proxy's `X-Request-ID` when it is short and safe (it ends up in logs and headers), else a
    new random id. A client that is not a trusted proxy cannot choose its id (nor forge another's)."""
    sent = _header(scope, REQUEST_ID.encode())
    if sent and SAFE_REQUEST_ID.fullmatch(sent) and peer_is_trusted(scope, trusted_proxies):
        return sent
    return uuid.uuid4().hex


class RouteTemplates:
    """Litestar puts the matched route's path format (`/b/{slug}`) in the scope; the route's own template
    (`/b/{slug:str}`) is looked up in the app's routes, once per format."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def label(self, scope: Scope) -> str:
        path_format = scope.get("path_template")
        if not path_format:
            return UNMATCHED
        template = self.known.get(path_format)
        if template is None:
            app = scope.get("app")
            for route in getattr(app, "routes", ()):
                self.known.setdefault(route.path_format, route.path)
            template = self.known.setdefault(path_format, path_format)
        return template


def observe_requests(app: ASGIApp, settings: Settings) -> ASGIApp:
    trusted = settings.server.trusted_proxies
    access_log = settings.server.access_log
    routes = RouteTemplates()

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in METHODS else "other"
        path = scope.get("path", "")
        request_id = request_id_for(scope, trusted)
        status = 500  # unless the app answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID] = request_id
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await app(scope, receive, send_with_id)
                finally:
                    duration = time.perf_counter() - started
                    route = routes.label(scope)
                    HTTP_REQUESTS.labels(method, route, str(status)).inc()
                    HTTP_DURATION.labels(method, route, str(status)).observe(duration)
                    if access_log:
                        log.info(
                            "request",
                            method=method,
                            route=route,
                            path=path[:MAX_LOGGED_PATH],
                            status=status,
                            duration_ms=round(duration * 1000, 2),
                            client=client_address(Request(scope), trusted),
                        )
        finally:
            HTTP_IN_FLIGHT.dec()

    return handler
