"""Prometheus metrics at /metrics (prometheus-client's default registry).

Counters are per process: with several Granian workers each answers with its own. Gauges that come
from the database (email delivery rate, queue) are refreshed at each scrape by the functions registered
with `on_scrape`, and are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import structlog
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest

log = structlog.get_logger(__name__)

EMAIL_SENDS = Counter(
    "servicerw_email_sends",
    "Emails handed to a provider, by provider and result (accepted, failed, skipped: circuit open)",
    ["provider", "result"],
)
EMAIL_DELIVERY_RATE = Gauge(
    "servicerw_email_delivery_rate",
    "Sent / (sent + dead) of the emails queued in the last 24 hours, by provider ('all': every email)",
    ["provider"],
)
EMAIL_QUEUE = Gauge(
    "servicerw_email_outbox",
    "Emails queued in the last 24 hours, by status (pending, sending, sent, dead)",
    ["status"],
)

_refreshers: list[Callable[[], Awaitable[None]]] = []


def on_scrape(refresh: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """Register a coroutine function that updates gauges before each scrape."""
    _refreshers.append(refresh)
    return refresh


def _authorized(request: Request) -> bool:
    server = request.app.state.settings.server
    if not server.metrics_token:
        return not server.production
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {server.metrics_token}".encode())


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response[bytes]:
    if not _authorized(request):
        raise NotFoundException()
    for refresh in _refreshers:
        try:
            await refresh()
        except Exception as error:  # noqa: BLE001 - the counters are still worth answering
            log.warning("metrics_refresh_failed", refresh=refresh.__name__, error=repr(error))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})
